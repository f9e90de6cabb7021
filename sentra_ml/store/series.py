"""A rollout's series: what the judging loop saw at each interval, read back by the dashboard.

The controller appends one `Point` per metric and cohort at every tick (in the tick's own
transaction, under its fencing token); the API reads them by an id cursor, so a page never
splits or repeats a point. Points outlive their rollout by a retention period (`prune`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from sentra_ml.analysis.types.specs import MetricSpec
from sentra_ml.store.schema import Rollout, SeriesPoint
from sentra_ml.store.states import TERMINAL

ROLLOUT = ""  # the metric name of rollout-wide series (weight, risk, score, anomaly)


@dataclass(frozen=True)
class Point:
    """`cohort`: baseline or canary (the interval's value: error ratio, latency quantile or
    gauge mean, with its sample `count`), effect (relative change with its confidence interval),
    forecast (relative change forecast for `ts`, with its band), or for ROLLOUT: weight, risk,
    score, anomaly.baseline, anomaly.canary (the learner's score, `flagged`)."""

    ts: float
    metric: str
    cohort: str
    value: float | None
    low: float | None = None
    high: float | None = None
    count: float | None = None
    flagged: bool | None = None


def append(*, session: Session, rollout_id: str, points: Sequence[Point]) -> None:
    session.add_all(
        SeriesPoint(
            rollout_id=rollout_id,
            ts=p.ts,
            metric=p.metric,
            cohort=p.cohort,
            value=p.value,
            low=p.low,
            high=p.high,
            count=p.count,
            flagged=p.flagged,
        )
        for p in points
    )


def read(*, session: Session, rollout_id: str, after: int, limit: int) -> Sequence[SeriesPoint]:
    """The rollout's points with an id above `after`, oldest first, at most `limit`."""
    return session.scalars(
        select(SeriesPoint)
        .where(SeriesPoint.rollout_id == rollout_id, SeriesPoint.id > after)
        .order_by(SeriesPoint.id)
        .limit(limit)
    ).all()


def prune(*, session: Session, now: float, retention_seconds: float) -> int:
    """Delete the points of rollouts that ended more than `retention_seconds` ago; how many."""
    ended = select(Rollout.id).where(
        Rollout.state.in_([s.value for s in TERMINAL]),
        Rollout.updated_at < now - retention_seconds,
    )
    result = session.execute(
        delete(SeriesPoint)
        .where(SeriesPoint.rollout_id.in_(ended))
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def latency_quantile(metric: MetricSpec) -> float:
    """The quantile a latency metric's series shows: its SLO's, else its highest tested."""
    if metric.slo is not None and metric.slo.quantile is not None:
        return metric.slo.quantile
    return max(metric.quantiles)
