"""Scenarios: traffic, service, fault and telemetry gaps of one simulated rollout, and a library."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from sentra_ml.analysis.types.labels import Action, Cohort
from sentra_ml.simulate.faults import (
    EnvironmentIncident,
    ErrorRamp,
    ErrorStep,
    Fault,
    GaugeShift,
    IntermittentBursts,
    LatencyShift,
    NoFault,
    Saturation,
    SlowDrift,
    TailLatency,
)
from sentra_ml.simulate.service import METRICS, ServiceModel

# bounds (ms) of the Prometheus-style latency histogram, the last one is +Inf
LATENCY_BUCKETS_MS: tuple[float, ...] = (
    5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 500.0, 1000.0, 2500.0, 5000.0, 10000.0, math.inf,
)  # fmt: skip

# the canary weight (percent) at which `scenario_library` gives the canary `canary_rps`
REFERENCE_WEIGHT = 5.0


@dataclass(frozen=True)
class TelemetryGap:
    """No samples of `metrics` for `cohorts` stamped within `[start, start + duration)`."""

    start: float
    duration: float
    cohorts: tuple[Cohort, ...] = (Cohort.BASELINE, Cohort.CANARY)
    metrics: tuple[str, ...] = METRICS

    def covers(self, ts: float, cohort: Cohort, metric: str) -> bool:
        """Whether the sample `(ts, cohort, metric)` is lost."""
        in_time = self.start <= ts < self.start + self.duration
        return in_time and cohort in self.cohorts and metric in self.metrics


@dataclass(frozen=True)
class Scenario:
    """One simulated rollout. `rps` is the TOTAL request rate of both cohorts together.

    `expected` is the right decision: promote (no fault), rollback (a canary fault) or pause (an
    environment incident: pause while it lasts, never roll back; afterwards the rollout may go
    on). `max_latency_values` caps the raw latency values per cohort and tick (a uniform sample;
    the error counts stay exact).
    """

    name: str
    rps: float
    diurnal_amplitude: float = 0.0
    diurnal_period: float = 86_400.0
    service: ServiceModel = field(default_factory=ServiceModel)
    fault: Fault = field(default_factory=NoFault)
    gaps: tuple[TelemetryGap, ...] = ()
    latency_buckets: bool = False
    max_latency_values: int = 5000
    expected: Action = Action.PROMOTE

    def __post_init__(self) -> None:
        if self.max_latency_values < 1:
            raise ValueError(f"max_latency_values: must be >= 1, got {self.max_latency_values}")

    def dropout(self, ts: float, cohort: Cohort, metric: str) -> bool:
        """Whether a gap swallows the sample of `metric` for `cohort` stamped `ts`."""
        return any(gap.covers(ts, cohort, metric) for gap in self.gaps)


def total_rps(canary_rps: float, weight: float = REFERENCE_WEIGHT) -> float:
    """The total rate that gives the canary `canary_rps` requests/s at `weight` percent."""
    return canary_rps * 100.0 / weight


def scenario_library(canary_rps: float = 20.0, onset: float = 60.0) -> dict[str, Scenario]:
    """The named scenarios, at `total_rps(canary_rps)` (400 rps total by default; 20 rps reach
    the canary at 5 %), with faults starting at `onset` s. "aa_low_traffic" runs at 1 rps total.
    """
    rps = total_rps(canary_rps)
    rollback, pause = Action.ROLLBACK, Action.PAUSE
    scenarios = [
        Scenario("aa", rps),
        Scenario("aa_heavy_tail", rps, service=ServiceModel(tail_fraction=0.02)),
        Scenario("aa_low_traffic", 1.0),
        Scenario("aa_diurnal", rps, diurnal_amplitude=0.5, diurnal_period=600.0),
        Scenario("aa_buckets", rps, latency_buckets=True),
        Scenario("error_step", rps, fault=ErrorStep(onset, 0.03), expected=rollback),
        Scenario("latency_shift", rps, fault=LatencyShift(onset, 1.3), expected=rollback),
        Scenario("tail_latency", rps, fault=TailLatency(onset, 0.02, 5.0), expected=rollback),
        Scenario("slow_drift", rps, fault=SlowDrift(onset, 0.05), expected=rollback),
        # the error ratio doubles slowly (over 4 min); cpu 1.5x at once (a gauge step)
        Scenario("error_ramp", rps, fault=ErrorRamp(onset, 2.0, 240.0), expected=rollback),
        Scenario("cpu_shift", rps, fault=GaugeShift(onset, cpu_factor=1.5), expected=rollback),
        Scenario(
            "bursts", rps, fault=IntermittentBursts(onset, 120.0, 15.0, 0.15), expected=rollback
        ),
        Scenario("saturation", rps, fault=Saturation(onset, 20.0, 50.0), expected=rollback),
        Scenario(
            "environment_incident",
            rps,
            fault=EnvironmentIncident(onset, 180.0, 0.08, 2.0),
            expected=pause,
        ),
        # the rollout starts 5 min into a 15-min incident: no "before" inside the rollout
        Scenario(
            "incident_at_start",
            rps,
            fault=EnvironmentIncident(-300.0, 900.0, 0.03, 1.5),
            expected=pause,
        ),
    ]
    return {s.name: s for s in scenarios}
