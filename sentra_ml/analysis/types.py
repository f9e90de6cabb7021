"""Value types of the analysis core: metric specs, telemetry samples, verdicts.

Everything here is plain data (frozen dataclasses and StrEnums) so that adapters, the service and
the controller can share it without importing any behaviour.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np


class Cohort(StrEnum):
    BASELINE = "baseline"
    CANARY = "canary"


class MetricKind(StrEnum):
    RATIO = "ratio"
    LATENCY = "latency"
    GAUGE = "gauge"


class Direction(StrEnum):
    """Which change of the metric is bad."""

    INCREASE = "increase"
    DECREASE = "decrease"
    EITHER = "either"


class Action(StrEnum):
    PROMOTE = "promote"
    CONTINUE = "continue"
    PAUSE = "pause"
    ROLLBACK = "rollback"


class MetricStatus(StrEnum):
    """Closed set of per-metric outcomes; "no data" is a label, not an exception."""

    REGRESSION = "regression"
    SAFE = "safe"
    INCONCLUSIVE = "inconclusive"
    NO_DATA = "no_data"
    STALE = "stale"
    ENVIRONMENT = "environment"


class SpecError(ValueError):
    """A rollout or metric spec is invalid; the message names the field."""


class SampleError(ValueError):
    """A telemetry sample is invalid; the message names the field and the problem."""


@dataclass(frozen=True)
class SLO:
    """An objective on the canary alone: `ratio <= objective`, or `quantile(q) <= objective`."""

    objective: float
    quantile: float | None = None


@dataclass(frozen=True)
class MetricSpec:
    """One metric of a rollout analysis."""

    name: str
    kind: MetricKind
    direction: Direction = Direction.INCREASE
    tolerance: float = 0.1
    critical: bool = False
    slo: SLO | None = None
    quantiles: tuple[float, ...] = (0.5, 0.99)
    weight: float = 1.0

    def __post_init__(self) -> None:
        if not self.name:
            raise SpecError("metrics[].name: must not be empty")
        where = f"metrics[{self.name}]"
        if not (0.0 <= self.tolerance < 10.0) or math.isnan(self.tolerance):
            raise SpecError(f"{where}.tolerance: must be in [0, 10), got {self.tolerance}")
        if self.direction is not Direction.INCREASE and self.tolerance >= 1.0:
            raise SpecError(f"{where}.tolerance: must be < 1 when a decrease is bad")
        if self.kind is MetricKind.LATENCY:
            if not self.quantiles:
                raise SpecError(f"{where}.quantiles: a latency metric needs at least one")
            for q in self.quantiles:
                if not 0.0 < q < 1.0:
                    raise SpecError(f"{where}.quantiles: {q} is not in (0, 1)")
        if self.weight <= 0:
            raise SpecError(f"{where}.weight: must be > 0, got {self.weight}")
        if self.slo is not None:
            if self.kind is MetricKind.LATENCY and self.slo.quantile is None:
                raise SpecError(f"{where}.slo.quantile: a latency SLO names its quantile")
            if self.slo.quantile is not None and not 0.0 < self.slo.quantile < 1.0:
                raise SpecError(f"{where}.slo.quantile: {self.slo.quantile} is not in (0, 1)")
            if self.kind is MetricKind.RATIO and not 0.0 <= self.slo.objective <= 1.0:
                raise SpecError(f"{where}.slo.objective: a ratio objective is in [0, 1]")


@dataclass(frozen=True)
class StepPolicy:
    """The canary weight schedule and how fast the judge may walk it.

    `harm_budget` gates exposure: the weight may grow to `w` only while, for every metric, the
    upper confidence bound (at `exposure_confidence`) of the canary's harm times `w / 100` stays
    below `harm_budget` times the metric's tolerance. Early steps accept loose bounds; promotion
    needs the bound within `harm_budget` x tolerance. The bound gates exposure, not rollbacks,
    so it may use a lower confidence than the rollback tests.
    """

    steps: tuple[float, ...] = (1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0)
    min_step_seconds: float = 10.0
    max_step_seconds: float = 300.0
    adaptive: bool = True
    harm_budget: float = 2.0
    exposure_confidence: float = 0.8
    predictive_rollback: float | None = None  # roll back when P(forecast breach) >= this

    def __post_init__(self) -> None:
        if not self.steps:
            raise SpecError("policy.steps: must not be empty")
        previous = 0.0
        for w in self.steps:
            if not 0.0 < w <= 100.0:
                raise SpecError(f"policy.steps: weight {w} is not in (0, 100]")
            if w <= previous:
                raise SpecError("policy.steps: weights must increase strictly")
            previous = w
        if self.steps[-1] != 100.0:
            raise SpecError("policy.steps: the last step must be 100 (full promotion)")
        if self.min_step_seconds < 0 or self.max_step_seconds < self.min_step_seconds:
            raise SpecError("policy: need 0 <= min_step_seconds <= max_step_seconds")
        if not 0.5 <= self.exposure_confidence < 1.0:
            raise SpecError(
                f"policy.exposure_confidence: must be in [0.5, 1), got {self.exposure_confidence}"
            )
        if not self.harm_budget > 0:
            raise SpecError(f"policy.harm_budget: must be > 0, got {self.harm_budget}")
        p = self.predictive_rollback
        if p is not None and not 0.5 <= p <= 1.0:
            raise SpecError(f"policy.predictive_rollback: must be in [0.5, 1], got {p}")


@dataclass(frozen=True)
class RolloutSpec:
    """What a rollout analysis compares and the rules it decides by."""

    metrics: tuple[MetricSpec, ...]
    policy: StepPolicy = field(default_factory=StepPolicy)
    alpha: float = 0.01
    stale_after_seconds: float = 15.0
    grace_seconds: float = 60.0
    min_score: float = 80.0
    service: str = "service"
    forecast_horizon_seconds: float = 600.0  # hold while a gauge is forecast past tolerance; 0: off
    interval_seconds: float = 2.0  # how often the controller judges the rollout live

    def __post_init__(self) -> None:
        if not self.metrics:
            raise SpecError("metrics: a rollout needs at least one metric")
        names = [m.name for m in self.metrics]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise SpecError(f"metrics: duplicate names {dupes}")
        if not 0.0 < self.alpha < 0.5:
            raise SpecError(f"alpha: must be in (0, 0.5), got {self.alpha}")
        if self.stale_after_seconds <= 0 or self.grace_seconds < 0:
            raise SpecError("stale_after_seconds must be > 0 and grace_seconds >= 0")
        if not 0.0 <= self.forecast_horizon_seconds <= 86400.0:
            raise SpecError("forecast_horizon_seconds: must be in [0, 86400]")
        if not 1.0 <= self.interval_seconds <= 5.0:
            raise SpecError(f"interval_seconds: must be in [1, 5], got {self.interval_seconds}")
        if not 0.0 <= self.min_score <= 100.0:
            raise SpecError(f"min_score: must be in [0, 100], got {self.min_score}")

    def metric(self, name: str) -> MetricSpec:
        for m in self.metrics:
            if m.name == name:
                return m
        raise KeyError(name)


# --- telemetry samples -----------------------------------------------------------------------

# The largest magnitude of any count, value or bucket bound a sample carries. Far beyond any real
# reading (2^53 is the largest integer a float holds exactly), and small enough that the sums over
# any rollout and their squares (variances) stay finite in float64.
MAX_MAGNITUDE = 1e100


@dataclass(frozen=True)
class RatioSample:
    """Request counts of one cohort over one interval ending at `ts` (seconds)."""

    ts: float
    cohort: Cohort
    metric: str
    total: float
    failed: float

    def __post_init__(self) -> None:
        _check_finite(self, "ts", "total", "failed")
        _check_magnitude(self, "total", "failed")
        if self.total < 0:
            raise SampleError(f"total: must be >= 0, got {self.total}")
        if self.failed < 0:
            raise SampleError(f"failed: must be >= 0, got {self.failed}")
        if self.failed > self.total:
            raise SampleError(f"failed: {self.failed} exceeds total {self.total}")


@dataclass(frozen=True)
class LatencySample:
    """A latency distribution of one cohort over one interval: raw values or cumulative buckets.

    `buckets` maps upper bounds (Prometheus `le`, `math.inf` for `+Inf`) to cumulative counts.
    """

    ts: float
    cohort: Cohort
    metric: str
    values: tuple[float, ...] = ()
    buckets: tuple[tuple[float, float], ...] = ()

    def __post_init__(self) -> None:
        _check_finite(self, "ts")
        if self.values and self.buckets:
            raise SampleError("values, buckets: give one of them, not both")
        if self.values:
            arr = np.asarray(self.values, dtype=np.float64)
            bad = ~(np.isfinite(arr) & (arr >= 0) & (arr <= MAX_MAGNITUDE))
            if bad.any():
                v = arr[int(np.argmax(bad))]
                raise SampleError(f"values: {v} is not a finite number in [0, {MAX_MAGNITUDE:g}]")
        previous_le, previous_count = -math.inf, 0.0
        for le, count in self.buckets:
            if math.isnan(le) or le <= previous_le:
                raise SampleError("buckets: upper bounds must be numbers in increasing order")
            if not math.isinf(le) and abs(le) > MAX_MAGNITUDE:
                raise SampleError(f"buckets: bound {le} is beyond {MAX_MAGNITUDE:g}")
            if not math.isfinite(count) or count < previous_count:
                raise SampleError(f"buckets: counts must be cumulative, got {count} at le={le}")
            if count > MAX_MAGNITUDE:
                raise SampleError(f"buckets: count {count} at le={le} is beyond {MAX_MAGNITUDE:g}")
            previous_le, previous_count = le, count
        if self.buckets and not math.isinf(self.buckets[-1][0]):
            raise SampleError("buckets: the last bucket must be +Inf")

    @property
    def count(self) -> float:
        return (
            float(len(self.values))
            if self.values
            else (self.buckets[-1][1] if self.buckets else 0.0)
        )


@dataclass(frozen=True)
class GaugeSample:
    """One reading of one instance (or the cohort mean when `instance` is empty)."""

    ts: float
    cohort: Cohort
    metric: str
    value: float
    instance: str = ""

    def __post_init__(self) -> None:
        _check_finite(self, "ts", "value")
        _check_magnitude(self, "value")


Sample = RatioSample | LatencySample | GaugeSample


def _check_finite(obj: object, *names: str) -> None:
    for name in names:
        value = getattr(obj, name)
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            raise SampleError(f"{name}: must be a finite number, got {value!r}")


def _check_magnitude(obj: object, *names: str) -> None:
    for name in names:
        value = getattr(obj, name)
        if abs(value) > MAX_MAGNITUDE:
            raise SampleError(
                f"{name}: must be at most {MAX_MAGNITUDE:g} in magnitude, got {value}"
            )


# --- verdicts --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Interval:
    """A point estimate with its confidence interval, as a relative change (0.38 = +38 %)."""

    estimate: float
    low: float
    high: float


@dataclass(frozen=True)
class MetricEvidence:
    """What the judge concluded about one metric, with the numbers behind it."""

    metric: str
    status: MetricStatus
    effect: Interval | None
    e_value: float
    risk: float
    summary: str
    details: Mapping[str, float | str] = field(default_factory=dict)
    harm: float = math.inf


@dataclass(frozen=True)
class AnomalyEvidence:
    """The service learner's latest scores (1 - p-value) of each cohort's last full window."""

    baseline: float | None
    canary: float | None
    baseline_flag: bool  # the baseline is unlike the service's normal: the environment moved
    canary_flag: bool  # the canary is unlike anything the service has shown
    learned: int  # baseline windows the learner has learned, over all rollouts of the service
    warm: bool  # enough of them to score at all

    def to_dict(self) -> dict[str, object]:
        return {
            "baseline": None if self.baseline is None else round(self.baseline, 6),
            "canary": None if self.canary is None else round(self.canary, 6),
            "baseline_flag": self.baseline_flag,
            "canary_flag": self.canary_flag,
            "learned": self.learned,
            "warm": self.warm,
        }


@dataclass(frozen=True)
class Verdict:
    """One evaluation: the action, how risky the canary looks, and why."""

    ts: float
    action: Action
    risk: float
    weight: float
    current_weight: float
    score: float | None  # None until some metric has data: nothing to score yet
    reasons: Sequence[str]
    evidence: Sequence[MetricEvidence]
    anomaly: AnomalyEvidence | None = None  # None when the judge has no service learner
    # The judge keeps the weight where it is on the evidence (or its absence), not merely to
    # pace its steps: a gate must refuse more traffic while this is true.
    hold: bool = False

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready dict; unbounded interval ends and infinite e-values become null."""
        return {
            "ts": self.ts,
            "action": str(self.action),
            "risk": round(self.risk, 4),
            "weight": self.weight,
            "current_weight": self.current_weight,
            "score": None if self.score is None else round(self.score, 1),
            "hold": self.hold,
            "reasons": list(self.reasons),
            "evidence": [
                {
                    "metric": e.metric,
                    "status": str(e.status),
                    "effect": None
                    if e.effect is None
                    else {
                        "estimate": _finite(e.effect.estimate),
                        "low": _finite(e.effect.low),
                        "high": _finite(e.effect.high),
                    },
                    "e_value": _finite(e.e_value),
                    "risk": round(e.risk, 4),
                    "summary": e.summary,
                    "details": {
                        k: _finite(v) if isinstance(v, float) else v for k, v in e.details.items()
                    },
                }
                for e in self.evidence
            ],
            "anomaly": None if self.anomaly is None else self.anomaly.to_dict(),
        }


def _finite(x: float) -> float | None:
    return round(x, 6) if math.isfinite(x) else None
