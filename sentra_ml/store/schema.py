"""The tables. Decisions and events are an append-only audit: nothing here updates or deletes them.

Times are unix seconds in DOUBLE columns (MySQL's FLOAT is 32-bit: 128 s steps at today's
unix time); JSON columns hold specs, evidence and payloads as sent.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Double,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Rollout(Base):
    __tablename__ = "rollouts"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    service: Mapped[str] = mapped_column(String(200))
    namespace: Mapped[str] = mapped_column(String(200))
    baseline_version: Mapped[str] = mapped_column(String(200))
    canary_version: Mapped[str] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(20))
    weight: Mapped[float] = mapped_column(Double)
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)
    target: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    source: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    traces: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[float] = mapped_column(Double)
    updated_at: Mapped[float] = mapped_column(Double)
    # the controller's: the fencing token of the last lease that wrote, the canary weight the
    # router verified, and the state a promoting / rolling-back rollout ends in
    fence: Mapped[int] = mapped_column(BigInteger, default=0)
    applied_weight: Mapped[float | None] = mapped_column(Double, nullable=True)
    ending: Mapped[str | None] = mapped_column(String(20), nullable=True)

    __table_args__ = (
        Index("ix_rollouts_service_state", "service", "state"),
        Index("ix_rollouts_namespace_service", "namespace", "service"),
    )


class Step(Base):
    """A change of the recommended canary weight."""

    __tablename__ = "steps"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    rollout_id: Mapped[str] = mapped_column(ForeignKey("rollouts.id"), index=True)
    ts: Mapped[float] = mapped_column(Double)
    weight: Mapped[float] = mapped_column(Double)
    previous_weight: Mapped[float] = mapped_column(Double)


class WeightChange(Base):
    """A weight change through the router: written as an intent (with the lease's fencing
    token) before the call, and given its outcome after verification. After a crash, an intent
    still `intended` is reconciled with what the router reads back."""

    __tablename__ = "weight_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    rollout_id: Mapped[str] = mapped_column(ForeignKey("rollouts.id"), index=True)
    fence: Mapped[int] = mapped_column(BigInteger)
    ts: Mapped[float] = mapped_column(Double)  # the judge's clock at the decision
    weight: Mapped[float] = mapped_column(Double)  # the canary's percent asked for
    previous_weight: Mapped[float | None] = mapped_column(Double, nullable=True)
    status: Mapped[str] = mapped_column(String(20))
    detail: Mapped[str] = mapped_column(Text, default="")
    settled_at: Mapped[float | None] = mapped_column(Double, nullable=True)


class Decision(Base):
    """A verdict that changed something (action or weight), with all its evidence."""

    __tablename__ = "decisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    rollout_id: Mapped[str] = mapped_column(ForeignKey("rollouts.id"), index=True)
    ts: Mapped[float] = mapped_column(Double)
    action: Mapped[str] = mapped_column(String(20))
    risk: Mapped[float] = mapped_column(Double)
    weight: Mapped[float] = mapped_column(Double)
    score: Mapped[float | None] = mapped_column(Double, nullable=True)  # None: no data yet
    verdict: Mapped[dict[str, Any]] = mapped_column(JSON)
    model_version: Mapped[str] = mapped_column(String(200))


class SeriesPoint(Base):
    """One value of a rollout's series at one judging interval, as the controller saw it: a
    metric's cohort value, its effect (with the confidence interval in `low`/`high`) or forecast,
    or (metric "") the rollout's weight, risk, score and anomaly scores. Kept for the
    rollout's lifetime plus a retention period (`series.prune`)."""

    __tablename__ = "series_points"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    rollout_id: Mapped[str] = mapped_column(ForeignKey("rollouts.id"))
    ts: Mapped[float] = mapped_column(Double)
    metric: Mapped[str] = mapped_column(String(200))
    cohort: Mapped[str] = mapped_column(String(40))
    value: Mapped[float | None] = mapped_column(Double, nullable=True)
    low: Mapped[float | None] = mapped_column(Double, nullable=True)
    high: Mapped[float | None] = mapped_column(Double, nullable=True)
    count: Mapped[float | None] = mapped_column(Double, nullable=True)
    flagged: Mapped[bool | None] = mapped_column(Boolean, nullable=True)

    __table_args__ = (Index("ix_series_points_rollout_id_id", "rollout_id", "id"),)


class Event(Base):
    """The audit trail: who did what to which rollout, when and why."""

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    rollout_id: Mapped[str | None] = mapped_column(ForeignKey("rollouts.id"), index=True)
    ts: Mapped[float] = mapped_column(Double)
    kind: Mapped[str] = mapped_column(String(40))
    actor: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(Text)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    decision_id: Mapped[int | None] = mapped_column(ForeignKey("decisions.id"), nullable=True)


class Policy(Base):
    """A named rollout spec template (metrics, step policy) that rollouts can refer to."""

    __tablename__ = "policies"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[float] = mapped_column(Double)


class ApiToken(Base):
    """A bearer token; only its SHA-256 is stored (tokens are random, so no salt is needed)."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    role: Mapped[str] = mapped_column(String(20))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[float] = mapped_column(Double)
    revoked_at: Mapped[float | None] = mapped_column(Double, nullable=True)


class ModelVersion(Base):
    """A model used in decisions (the judge itself, or a per-service learner from MLflow)."""

    __tablename__ = "model_versions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    service: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(200))
    version: Mapped[str] = mapped_column(String(200))
    uri: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[float] = mapped_column(Double)

    __table_args__ = (Index("ix_model_versions_service_name", "service", "name", "version"),)
