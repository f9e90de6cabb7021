"""Request and response bodies of the API (pydantic); every field error names its path."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from sentra_ml.spec import MetricModel, PolicyModel, RolloutSpecModel, TelemetryLine
from sentra_ml.store.states import ManualAction, State
from sentra_ml.store.tokens import Role

Name = Field(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9][A-Za-z0-9._\-]*$")
MAX_LINES = 20_000


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
    slow_ms: dict[str, float] = Field(
        default_factory=dict,
        description="latency metric -> ms: a regressed latency shows requests slower than this",
    )
    limit: int = Field(default=3, ge=1, le=20)


class RolloutCreate(_Body):
    """A rollout to judge: its metrics and policy inline, or by the name of a stored policy."""

    service: str = Name
    namespace: str = Field(default="default", min_length=1, max_length=200)
    baseline_version: str = Field(min_length=1, max_length=200)
    canary_version: str = Field(min_length=1, max_length=200)
    policy_name: str | None = Field(default=None, min_length=1, max_length=200)
    metrics: list[MetricModel] | None = Field(default=None, min_length=1, max_length=100)
    policy: PolicyModel | None = None
    alpha: float | None = Field(default=None, ge=1e-9, lt=0.5)
    stale_after_seconds: float | None = Field(default=None, gt=0.0, le=86400)
    grace_seconds: float | None = Field(default=None, ge=0.0, le=86400)
    min_score: float | None = Field(default=None, ge=0.0, le=100.0)
    interval_seconds: float | None = Field(
        default=None, ge=1.0, le=5.0, description="how often the controller judges it (s)"
    )
    target: dict[str, Any] | None = Field(
        default=None, description="Traffic target for the controller, e.g. {'kind': 'nginx', ...}"
    )
    source: dict[str, Any] | None = Field(
        default=None, description="Telemetry source, e.g. {'kind': 'prometheus', ...}"
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
    now: float | None = Field(
        default=None, allow_inf_nan=False, description="Judge at this time (default: newest ts)"
    )


class TokenCreate(_Body):
    name: str = Name
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
    alpha: float = Field(default=0.01, ge=1e-9, lt=0.5)


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


class ArgoResult(BaseModel):
    verdict: Literal["pass", "fail", "inconclusive"]
    action: str | None
    risk: float | None
    score: float | None
    weight: float | None
    state: State
    reasons: list[str]


class ArgoAnswer(BaseModel):
    rollout_id: str
    result: ArgoResult
