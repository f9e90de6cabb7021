"""A service's past rollouts as the audit database keeps them: outcome, spec, the weights the router
verified, the per-interval request counts of its first ratio metric, and the strongest evidence
each metric showed in the recorded decisions."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from sentra_ml.analysis.types.errors import SpecError
from sentra_ml.analysis.types.labels import MetricKind
from sentra_ml.analysis.types.specs import RolloutSpec
from sentra_ml.spec import parse_spec
from sentra_ml.store import weight_changes as ledger
from sentra_ml.store.schema import Decision, Rollout, SeriesPoint
from sentra_ml.store.series import latency_quantile
from sentra_ml.store.states import State

ENDED = (State.PROMOTED, State.ROLLED_BACK)


@dataclass(frozen=True)
class Interval:
    """One judging interval of the first ratio metric: requests (and failures) per cohort."""

    ts: float
    seconds: float  # since the previous interval of the same cohort
    weight: float  # the canary percent the router had verified in force
    canary: float
    baseline: float
    baseline_failed: float


@dataclass
class PastRollout:
    """What one finished rollout of the service left in the audit database."""

    id: str
    state: State
    created_at: float
    ended_at: float  # its last decision
    spec: RolloutSpec
    intervals: list[Interval] = field(default_factory=list)
    baseline_latency: list[float] = field(default_factory=list)  # the series' quantile values
    peak_risk: dict[str, float] = field(default_factory=dict)  # per metric, over its decisions

    @property
    def promoted(self) -> bool:
        return self.state is State.PROMOTED

    @property
    def seconds(self) -> float:
        return self.ended_at - self.created_at


def ratio_metric(spec: RolloutSpec) -> str | None:
    return next((m.name for m in spec.metrics if m.kind is MetricKind.RATIO), None)


def latency_metric(spec: RolloutSpec) -> str | None:
    return next((m.name for m in spec.metrics if m.kind is MetricKind.LATENCY), None)


def past_rollouts(*, session: Session, service: str, limit: int = 100) -> list[PastRollout]:
    """The service's most recent promoted or rolled-back rollouts (at most `limit`), oldest
    first; rollouts whose stored spec no longer parses are left out."""
    rows = session.scalars(
        select(Rollout)
        .where(Rollout.service == service, Rollout.state.in_([s.value for s in ENDED]))
        .order_by(Rollout.created_at.desc())
        .limit(limit)
    ).all()
    out = []
    for row in reversed(rows):
        try:
            spec = parse_spec(row.spec)
        except SpecError:
            continue
        out.append(_read(session, row, spec))
    return out


def _read(session: Session, row: Rollout, spec: RolloutSpec) -> PastRollout:
    decisions = session.scalars(
        select(Decision).where(Decision.rollout_id == row.id).order_by(Decision.id)
    ).all()
    past = PastRollout(
        row.id,
        State(row.state),
        row.created_at,
        max((d.ts for d in decisions), default=row.updated_at),
        spec,
    )
    for d in decisions:
        for e in (d.verdict or {}).get("evidence") or []:
            name, risk = str(e.get("metric")), float(e.get("risk") or 0.0)
            past.peak_risk[name] = max(past.peak_risk.get(name, 0.0), risk)
    changes = sorted((c.ts, c.weight) for c in ledger.reached(session=session, rollout_id=row.id))
    ratio, latency = ratio_metric(spec), latency_metric(spec)
    points = session.scalars(
        select(SeriesPoint)
        .where(SeriesPoint.rollout_id == row.id, SeriesPoint.metric.in_([ratio, latency]))
        .order_by(SeriesPoint.id)
    ).all()
    if latency is not None:
        past.baseline_latency = [
            p.value
            for p in points
            if p.metric == latency and p.cohort == "baseline" and p.value is not None
        ]
    by_ts: dict[float, dict[str, Any]] = defaultdict(dict)
    for p in points:
        if p.metric == ratio and p.cohort in ("canary", "baseline") and p.count is not None:
            by_ts[p.ts][p.cohort] = p
    previous = row.created_at
    for ts in sorted(by_ts):
        pair = by_ts[ts]
        if len(pair) == 2:
            base = pair["baseline"]
            failed = (base.value or 0.0) * base.count
            weight = next((w for at, w in reversed(changes) if at <= ts), 0.0)  # in force
            past.intervals.append(
                Interval(ts, ts - previous, weight, pair["canary"].count, base.count, failed)
            )
        previous = ts
    return past


def quantile_of(spec: RolloutSpec) -> float | None:
    """The quantile the service's latency series shows (see `series.latency_quantile`)."""
    name = latency_metric(spec)
    return None if name is None else latency_quantile(spec.metric(name))
