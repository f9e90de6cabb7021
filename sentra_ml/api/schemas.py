"""Request and response bodies of the API (pydantic); every field error names its path."""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictInt, model_validator

from sentra_ml.spec import Finite, MetricModel, PolicyModel, RolloutSpecModel, TelemetryLine
from sentra_ml.store.states import ManualAction, State
from sentra_ml.store.tokens import Role

Name = Field(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9][A-Za-z0-9._\-]*$")
MAX_LINES = 20_000
MAX_DEPTH = 8  # levels of objects and arrays in a free-form object
MAX_OBJECT_BYTES = 16 * 1024  # a free-form object as compact JSON


def _depth(value: dict[str, Any] | list[Any]) -> int:
    """Levels of objects and arrays in `value`, itself included (walked without recursion)."""
    deepest, todo = 0, [(value, 1)]
    while todo:
        item, level = todo.pop()
        deepest = max(deepest, level)
        children = item.values() if isinstance(item, dict) else item
        todo.extend((child, level + 1) for child in children if isinstance(child, dict | list))
    return deepest


def _bounded(value: dict[str, Any]) -> dict[str, Any]:
    # the database stores these as JSON: MariaDB refuses deep nesting and NaN, and a controller
    # config has no need of either, nor of more than a few KiB
    if _depth(value) > MAX_DEPTH:
        raise ValueError(f"nested deeper than {MAX_DEPTH} levels")
    try:
        size = len(json.dumps(value, separators=(",", ":"), allow_nan=False).encode())
    except ValueError:
        raise ValueError("numbers must be finite (no NaN or Infinity)") from None
    if size > MAX_OBJECT_BYTES:
        raise ValueError(f"larger than {MAX_OBJECT_BYTES} bytes as JSON")
    return value


FreeObject = Annotated[dict[str, Any], AfterValidator(_bounded)]


class ErrorOut(BaseModel):
    """Every error answer: what went wrong, naming the field or the dependency (a 422 adds
    `errors`, the validation-error array)."""

    detail: str


class Readiness(BaseModel):
    ready: bool
    checks: dict[str, bool] = Field(description="dependency -> whether it answered")


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TempoTracesIn(_Body):
    """Where to find example traces of a regressed metric: a Tempo search per cohort."""

    kind: Literal["tempo"]
    url: str = Field(min_length=1, max_length=2000, pattern=r"^https?://")
    cohorts: dict[Literal["baseline", "canary"], str] = Field(
        description="a TraceQL condition per cohort, e.g. 'resource.service.version = \"v2\"'"
    )
    span_filter: str = Field(default="kind = server", max_length=1000)
    link: str = Field(default="{url}/api/traces/{trace_id}", max_length=2000)
    tenant: str | None = Field(default=None, max_length=200)
    slow_ms: dict[str, Finite] = Field(
        default_factory=dict,
        description="latency metric -> ms: a regressed latency shows requests slower than this",
    )
    limit: StrictInt = Field(default=3, ge=1, le=20)


class RolloutCreate(_Body):
    """A rollout to judge: its metrics and policy inline, or by the name of a stored policy."""

    service: str = Name
    namespace: str = Field(default="default", min_length=1, max_length=200)
    baseline_version: str = Field(min_length=1, max_length=200)
    canary_version: str = Field(min_length=1, max_length=200)
    policy_name: str | None = Field(default=None, min_length=1, max_length=200)
    metrics: list[MetricModel] | None = Field(default=None, min_length=1, max_length=100)
    policy: PolicyModel | None = None
    alpha: Finite | None = Field(default=None, ge=1e-9, lt=0.5)
    stale_after_seconds: Finite | None = Field(default=None, gt=0.0, le=86400)
    grace_seconds: Finite | None = Field(default=None, ge=0.0, le=86400)
    min_score: Finite | None = Field(default=None, ge=0.0, le=100.0)
    interval_seconds: Finite | None = Field(
        default=None, ge=1.0, le=5.0, description="how often the controller judges it (s)"
    )
    target: FreeObject | None = Field(
        default=None,
        description="Traffic target for the controller, e.g. {'kind': 'nginx', ...}; "
        f"at most {MAX_DEPTH} levels deep and {MAX_OBJECT_BYTES} bytes as JSON",
    )
    source: FreeObject | None = Field(
        default=None,
        description="Telemetry source, e.g. {'kind': 'prometheus', ...}; "
        f"at most {MAX_DEPTH} levels deep and {MAX_OBJECT_BYTES} bytes as JSON",
    )
    traces: TempoTracesIn | None = None

    @model_validator(mode="after")
    def _one_spec(self) -> RolloutCreate:
        if (self.metrics is None) == (self.policy_name is None):
            raise ValueError("give either metrics (inline) or policy_name, not both or neither")
        return self


class RolloutOut(BaseModel):
    id: str
    service: str
    namespace: str
    baseline_version: str
    canary_version: str
    state: State
    weight: float
    spec: dict[str, Any]
    target: dict[str, Any] | None
    source: dict[str, Any] | None
    traces: dict[str, Any] | None
    created_by: str
    created_at: float
    updated_at: float


class RolloutPage(BaseModel):
    items: list[RolloutOut]
    total: int
    limit: int
    offset: int


class TelemetryBatch(_Body):
    lines: list[TelemetryLine] = Field(min_length=1, max_length=MAX_LINES)


class IngestResult(BaseModel):
    accepted: int


class ActionIn(_Body):
    action: ManualAction
    reason: str = Field(min_length=1, max_length=2000, description="Why, for the audit trail")


class CurrentVerdict(BaseModel):
    rollout_id: str
    state: State
    age_seconds: float | None = Field(
        description="seconds since the verdict was made; older than the rollout's stale "
        "period means no controller is judging it (integrations then refuse to pass)"
    )
    verdict: dict[str, Any] | None = Field(description="null until the first evaluation")


class EventOut(BaseModel):
    id: int
    ts: float
    kind: str
    actor: str
    reason: str
    payload: dict[str, Any]
    decision: dict[str, Any] | None = None


class EventPage(BaseModel):
    items: list[EventOut]
    limit: int
    offset: int


class VerdictRequest(_Body):
    """A one-shot judgement: the spec and both cohorts' telemetry in one body."""

    spec: RolloutSpecModel
    lines: list[TelemetryLine] = Field(min_length=1, max_length=MAX_LINES)
    now: Finite | None = Field(default=None, description="Judge at this time (default: newest ts)")


class TokenCreate(_Body):
    name: str = Name
    role: Role


class Caller(BaseModel):
    name: str
    role: Role


class TokenOut(BaseModel):
    id: int
    name: str
    role: Role
    created_by: str
    created_at: float
    revoked_at: float | None


class TokenCreated(TokenOut):
    token: str = Field(description="The secret; shown once, stored only as a hash")


class PolicyIn(_Body):
    name: str = Name
    metrics: list[MetricModel] = Field(min_length=1, max_length=100)
    policy: PolicyModel = PolicyModel()
    alpha: Finite = Field(default=0.01, ge=1e-9, lt=0.5)


class PolicyOut(PolicyIn):
    created_by: str
    created_at: float


class FlaggerPayload(BaseModel):
    """Flagger's webhook body (extra fields tolerated: Flagger may add some)."""

    name: str = Field(min_length=1, max_length=200)
    namespace: str = Field(min_length=1, max_length=200)
    phase: str = Field(default="", max_length=100)
    checksum: str = Field(default="", max_length=200)
    metadata: dict[str, str] = Field(default_factory=dict)


class GateAnswer(BaseModel):
    rollout_id: str | None
    hook: str
    allowed: bool
    action: str | None
    reason: str
    age_seconds: float | None = Field(description="how old the verdict is; null without one")
    detail: str | None = Field(
        default=None, description="on a 412, '<hook>: <reason>', as in every error answer"
    )


class ArgoResult(BaseModel):
    verdict: Literal["pass", "fail", "inconclusive"]
    more_traffic: bool = Field(
        description="the judge allows a step up now (false while it holds); "
        "Flagger's confirm-traffic-increase answers the same"
    )
    action: str | None
    risk: float | None
    score: float | None
    weight: float | None
    state: State
    reasons: list[str]
    age_seconds: float | None = Field(description="how old the verdict is; null without one")


class ArgoAnswer(BaseModel):
    rollout_id: str
    result: ArgoResult
