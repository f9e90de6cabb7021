"""A rollout's series, as the judging loop recorded them at each interval (the dashboard's
charts): per metric and cohort, and the rollout's weight, risk, score and anomaly scores."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from sentra_ml.analysis.types.labels import MetricKind
from sentra_ml.api.deps import ServicesDep, SessionDep, Viewer
from sentra_ml.api.routes.rollouts import NOT_FOUND, load
from sentra_ml.store import series

router = APIRouter(prefix="/v1/rollouts", tags=["rollouts"])


class PointOut(BaseModel):
    ts: float
    value: float | None
    low: float | None = Field(description="effect: the CI's low end; forecast: its band's")
    high: float | None = Field(description="effect: the CI's high end; forecast: its band's")
    count: float | None = Field(description="baseline, canary: requests or samples")
    flagged: bool | None = Field(description="anomaly.*: the learner flagged the cohort")


class SeriesPage(BaseModel):
    rollout_id: str
    series: dict[str, dict[str, list[PointOut]]] = Field(
        description="metric -> cohort -> points, oldest first. Cohorts: baseline and canary "
        "(the interval's error ratio, latency quantile or gauge mean), effect (relative "
        "change with its confidence interval), forecast (relative change forecast for its "
        "ts, with its band). The metric '' holds the rollout's weight, risk, score, "
        "anomaly.baseline and anomaly.canary."
    )
    latency_quantiles: dict[str, float] = Field(
        description="latency metric -> the quantile its cohort values are"
    )
    next: int = Field(description="pass as `after` for the points recorded since")
    more: bool = Field(description="the page is full: ask again with `after=next` at once")


@router.get("/{rollout_id}/series", responses=NOT_FOUND)
def read_series(
    rollout_id: str,
    svc: ServicesDep,
    session: SessionDep,
    _: Viewer,
    after: Annotated[int, Query(ge=0, description="the `next` of the previous page")] = 0,
    limit: Annotated[int, Query(ge=1, le=20_000)] = 5000,
) -> SeriesPage:
    """The points recorded after `after`, grouped by metric and cohort."""
    rollout = load(session, rollout_id)
    rows = series.read(session=session, rollout_id=rollout_id, after=after, limit=limit)
    grouped: dict[str, dict[str, list[PointOut]]] = {}
    for row in rows:
        point = PointOut(
            ts=row.ts, value=row.value, low=row.low, high=row.high, count=row.count,
            flagged=row.flagged,
        )  # fmt: skip
        grouped.setdefault(row.metric, {}).setdefault(row.cohort, []).append(point)
    quantiles = {
        m.name: series.latency_quantile(m)
        for m in svc.specs.spec(rollout_id, rollout.spec).metrics
        if m.kind is MetricKind.LATENCY
    }
    return SeriesPage(
        rollout_id=rollout_id,
        series=grouped,
        latency_quantiles=quantiles,
        next=rows[-1].id if rows else after,
        more=len(rows) == limit,
    )
