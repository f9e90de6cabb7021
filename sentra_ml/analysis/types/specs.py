"""What a rollout analysis is asked to do: metric specs, SLOs, the step policy, the rollout spec.

Each spec checks itself on construction and raises `SpecError` naming the field, so a spec that
exists is valid.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from sentra_ml.analysis.types.errors import SpecError
from sentra_ml.analysis.types.labels import Direction, MetricKind

# how long after the start a regression's onset is looked for as a change point (see
# `stats.changepoint`); 0 keeps the cumulative tests, each from the rollout's start
CHANGEPOINT_SECONDS = 1800.0


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
    changepoint_seconds: float = CHANGEPOINT_SECONDS  # onsets looked for this long; 0: off

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
        if not 0.0 <= self.changepoint_seconds <= 86400.0:
            raise SpecError(
                f"changepoint_seconds: must be in [0, 86400], got {self.changepoint_seconds}"
            )
        if not 0.0 <= self.min_score <= 100.0:
            raise SpecError(f"min_score: must be in [0, 100], got {self.min_score}")

    def metric(self, name: str) -> MetricSpec:
        for m in self.metrics:
            if m.name == name:
                return m
        raise KeyError(name)
