"""The wire formats: rollout specs (YAML/JSON) and telemetry lines, validated by pydantic.

These models turn untrusted input into the analysis core's value types; every error names the
field (`metrics.1.tolerance`) and the problem.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StringConstraints,
    ValidationError,
    WithJsonSchema,
    field_validator,
)

from sentra_ml.analysis.types.errors import SampleError, SpecError
from sentra_ml.analysis.types.labels import Cohort, Direction, MetricKind
from sentra_ml.analysis.types.samples import (
    MAX_MAGNITUDE,
    GaugeSample,
    LatencySample,
    RatioSample,
    Sample,
)
from sentra_ml.analysis.types.specs import (
    CHANGEPOINT_SECONDS,
    SLO,
    MetricSpec,
    RolloutSpec,
    StepPolicy,
)

# strict: a JSON number only, never `true` or "1.5" (which lax pydantic would take as 1.0 and 1.5)
Finite = Annotated[float, Field(allow_inf_nan=False, strict=True)]


def _bounded(x: float) -> float:
    if abs(x) > MAX_MAGNITUDE:
        raise ValueError(f"must be at most {MAX_MAGNITUDE:g} in magnitude")
    return x


# a number a sample carries: finite and at most MAX_MAGNITUDE (1e100) in magnitude
Bounded = Annotated[float, Field(allow_inf_nan=False, strict=True), AfterValidator(_bounded)]
Count = Annotated[float, Field(allow_inf_nan=False, strict=True, ge=0), AfterValidator(_bounded)]


# a bucket's upper bound as Prometheus writes `le`: a decimal number or +Inf
BOUND = r"^\s*(\+?[Ii][Nn][Ff]|[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?)\s*$"
Buckets = Annotated[
    dict[Annotated[str, StringConstraints(pattern=BOUND)], Bounded],
    # pydantic would say `patternProperties`, which leaves other keys allowed
    WithJsonSchema(
        {
            "type": "object",
            "propertyNames": {"pattern": BOUND},
            "additionalProperties": {"type": "number"},
            "minProperties": 1,
        }
    ),
]
SHOWN = 40  # at most this much of an input value goes into an error message


def clip(value: object, limit: int = SHOWN) -> str:
    """`value` as text for an error message, cut to `limit` characters."""
    text = str(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SLOModel(_Strict):
    objective: Finite
    quantile: Finite | None = None


class MetricModel(_Strict):
    name: str = Field(min_length=1, max_length=200)
    kind: MetricKind
    direction: Direction = Direction.INCREASE
    tolerance: Finite = Field(default=0.1, ge=0.0, lt=10.0)
    critical: StrictBool = False  # 0 or "yes" is a mistake, not a boolean
    slo: SLOModel | None = None
    quantiles: tuple[Finite, ...] = (0.5, 0.99)
    weight: Finite = Field(default=1.0, gt=0.0)


class PolicyModel(_Strict):
    steps: tuple[Finite, ...] = (1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0)
    min_step_seconds: Finite = Field(default=10.0, ge=0.0)
    max_step_seconds: Finite = Field(default=300.0, ge=0.0)
    adaptive: StrictBool = True
    harm_budget: Finite = Field(default=2.0, gt=0.0)
    exposure_confidence: Finite = Field(default=0.8, ge=0.5, lt=1.0)
    predictive_rollback: Finite | None = Field(
        default=None, ge=0.5, le=1.0,
        description="roll back when a forecast breach within the horizon is at least this likely",
    )  # fmt: skip


class RolloutSpecModel(_Strict):
    service: str = "service"
    alpha: Finite = Field(default=0.01, ge=1e-9, lt=0.5)
    stale_after_seconds: Finite = Field(default=15.0, gt=0.0)
    grace_seconds: Finite = Field(default=60.0, ge=0.0)
    min_score: Finite = Field(default=80.0, ge=0.0, le=100.0)
    forecast_horizon_seconds: Finite = Field(default=600.0, ge=0.0, le=86400.0)
    interval_seconds: Finite = Field(default=2.0, ge=1.0, le=5.0)
    changepoint_seconds: Finite = Field(default=CHANGEPOINT_SECONDS, ge=0.0, le=86400.0)
    policy: PolicyModel = PolicyModel()
    metrics: tuple[MetricModel, ...] = Field(min_length=1)

    def to_spec(self) -> RolloutSpec:
        metrics = tuple(
            MetricSpec(
                name=m.name,
                kind=m.kind,
                direction=m.direction,
                tolerance=m.tolerance,
                critical=m.critical,
                slo=None if m.slo is None else SLO(m.slo.objective, m.slo.quantile),
                quantiles=m.quantiles,
                weight=m.weight,
            )
            for m in self.metrics
        )
        return RolloutSpec(
            metrics=metrics,
            policy=StepPolicy(**self.policy.model_dump()),
            alpha=self.alpha,
            stale_after_seconds=self.stale_after_seconds,
            grace_seconds=self.grace_seconds,
            min_score=self.min_score,
            service=self.service,
            forecast_horizon_seconds=self.forecast_horizon_seconds,
            interval_seconds=self.interval_seconds,
            changepoint_seconds=self.changepoint_seconds,
        )


class TelemetryLine(_Strict):
    """One JSON line: one (interval, cohort, metric); exactly one of the value forms.

    With `counter: true`, `total` and `failed` are cumulative counter readings (as Prometheus
    exports them) rather than per-interval counts; `CounterIngest` turns them into increments.
    Every count, value and bucket bound is at most `MAX_MAGNITUDE` (1e100) in magnitude.
    """

    ts: Finite
    cohort: Cohort
    metric: str = Field(min_length=1, max_length=200)
    total: Count | None = None
    failed: Count | None = None
    values: list[Bounded] | None = Field(default=None, min_length=1)
    buckets: Buckets | None = Field(default=None, min_length=1)
    value: Bounded | None = None
    instance: str = ""
    counter: StrictBool = False

    @field_validator("buckets")
    @classmethod
    def _bucket_bounds(cls, v: dict[str, float] | None) -> dict[str, float] | None:
        if v is not None:
            for le in v:
                bound = _bound(le)
                if bound is None:
                    raise ValueError(f"bucket bound '{clip(le)}' is not a number or +Inf")
                if not math.isinf(bound) and abs(bound) > MAX_MAGNITUDE:
                    raise ValueError(f"bucket bound '{clip(le)}' is beyond {MAX_MAGNITUDE:g}")
        return v

    def to_sample(self) -> Sample:
        forms = [
            name
            for name, present in (
                ("total/failed", self.total is not None or self.failed is not None),
                ("values", self.values is not None),
                ("buckets", self.buckets is not None),
                ("value", self.value is not None),
            )
            if present
        ]
        if len(forms) != 1:
            raise SampleError(
                "a line needs exactly one of total+failed, values, buckets or value; "
                f"got {', '.join(forms) or 'none'}"
            )
        if forms[0] == "total/failed":
            if self.total is None or self.failed is None:
                raise SampleError("total, failed: a ratio line needs both")
            return RatioSample(self.ts, self.cohort, self.metric, self.total, self.failed)
        if self.values is not None:
            return LatencySample(self.ts, self.cohort, self.metric, values=tuple(self.values))
        if self.buckets is not None:
            pairs = sorted((_bound(le) or 0.0, c) for le, c in self.buckets.items())
            return LatencySample(self.ts, self.cohort, self.metric, buckets=tuple(pairs))
        assert self.value is not None
        return GaugeSample(self.ts, self.cohort, self.metric, self.value, self.instance)


def _bound(le: str) -> float | None:
    if le.strip().lower() in ("+inf", "inf"):
        return math.inf
    try:
        x = float(le)
    except ValueError:
        return None
    return x if math.isfinite(x) else None


def describe_validation_error(err: ValidationError) -> str:
    """'metrics.0.tolerance: Input should be less than 10' (first few problems, joined)."""
    parts = []
    for e in err.errors()[:5]:
        where = ".".join(clip(p) for p in e["loc"]) or "(root)"
        parts.append(f"{where}: {e['msg']}")
    return "; ".join(parts)


def parse_spec(data: Any) -> RolloutSpec:
    """A RolloutSpec from decoded YAML/JSON; raises SpecError naming the field."""
    try:
        return RolloutSpecModel.model_validate(data).to_spec()
    except ValidationError as err:
        raise SpecError(describe_validation_error(err)) from None


def load_spec(path: Path) -> RolloutSpec:
    """Read a rollout spec from a YAML (or JSON) file; raises SpecError with the file's name."""
    try:
        data = yaml.safe_load(path.read_text())
    except OSError as err:
        raise SpecError(f"{path}: cannot read ({err.strerror})") from None
    except yaml.YAMLError as err:
        raise SpecError(f"{path}: not valid YAML ({err})") from None
    try:
        return parse_spec(data)
    except SpecError as err:
        raise SpecError(f"{path}: {err}") from None


def read_line(text: str) -> TelemetryLine:
    """One telemetry JSON line, validated; raises SampleError naming the field."""
    try:
        return TelemetryLine.model_validate_json(text)
    except ValidationError as err:
        raise SampleError(describe_validation_error(err)) from None


def parse_line(text: str) -> Sample:
    """One telemetry JSON line (per-interval counts) into a Sample."""
    return read_line(text).to_sample()


def logged_line(data: dict[str, Any]) -> TelemetryLine:
    """A line as the telemetry log holds it (the `model_dump` of a line checked when it was
    taken, JSON-decoded), rebuilt without validating it a second time."""
    return TelemetryLine.model_construct(**{**data, "cohort": Cohort(data["cohort"])})


def line_of(sample: Sample) -> TelemetryLine:
    """The telemetry line of a checked sample (built unvalidated: the sample was checked)."""
    line: dict[str, Any] = {"ts": sample.ts, "cohort": sample.cohort, "metric": sample.metric}
    if isinstance(sample, RatioSample):
        line.update(total=sample.total, failed=sample.failed)
    elif isinstance(sample, LatencySample):
        if sample.buckets:
            line["buckets"] = {
                ("+Inf" if le == math.inf else repr(le)): c for le, c in sample.buckets
            }
        else:
            line["values"] = list(sample.values)
    else:
        line.update(value=sample.value, instance=sample.instance)
    return TelemetryLine.model_construct(**line)
