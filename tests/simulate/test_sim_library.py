"""The scenario library and the default spec: names, expectations, rates and metric names."""

from __future__ import annotations

import pytest
from sim_helpers import CANARY, counts, run

from sentra_ml.analysis.types.labels import Action, MetricKind
from sentra_ml.analysis.types.specs import StepPolicy
from sentra_ml.simulate import (
    METRICS,
    REFERENCE_WEIGHT,
    NoFault,
    Scenario,
    Simulator,
    TelemetryGap,
    default_spec,
    scenario_library,
    total_rps,
)

NAMES = {
    "aa",
    "aa_heavy_tail",
    "aa_low_traffic",
    "aa_diurnal",
    "aa_buckets",
    "error_step",
    "latency_shift",
    "tail_latency",
    "slow_drift",
    "error_ramp",
    "cpu_shift",
    "bursts",
    "saturation",
    "environment_incident",
    "incident_at_start",
}


def test_the_library_names_every_scenario_with_its_right_decision() -> None:
    library = scenario_library()
    assert set(library) == NAMES
    assert all(name == s.name for name, s in library.items())
    for name, s in library.items():
        healthy = isinstance(s.fault, NoFault)
        assert healthy == name.startswith("aa")
        incident = name in ("environment_incident", "incident_at_start")
        expected = Action.PAUSE if incident else Action.ROLLBACK
        assert s.expected is (Action.PROMOTE if healthy else expected)
    assert library["aa_buckets"].latency_buckets
    assert library["aa_diurnal"].diurnal_amplitude > 0


def test_faults_start_at_the_requested_onset() -> None:
    library = scenario_library(onset=123.0)
    faults = [s for s in library.values() if s.expected is not Action.PROMOTE]
    assert {s.fault.onset for s in faults if s.name != "incident_at_start"} == {123.0}
    assert library["incident_at_start"].fault.onset < 0  # already going when the rollout starts


def test_the_canary_gets_canary_rps_at_the_reference_weight() -> None:
    assert total_rps(20.0) == 400.0 == total_rps(20.0, REFERENCE_WEIGHT)
    library = scenario_library(canary_rps=10.0)
    assert library["aa"].rps == 200.0
    assert library["aa_low_traffic"].rps == 1.0
    _, samples = run(library["error_step"], seed=1, duration=600.0, weight=REFERENCE_WEIGHT)
    assert counts(samples, CANARY)[1] / 600.0 == pytest.approx(10.0, rel=0.1)


def test_the_default_spec_names_exactly_the_simulated_metrics() -> None:
    spec = default_spec()
    assert tuple(m.name for m in spec.metrics) == METRICS
    kinds = {m.name: (m.kind, m.tolerance) for m in spec.metrics}
    assert kinds == {
        "errors": (MetricKind.RATIO, 0.2),
        "latency_ms": (MetricKind.LATENCY, 0.2),
        "cpu": (MetricKind.GAUGE, 0.25),
        "memory_mb": (MetricKind.GAUGE, 0.25),
    }
    errors = spec.metric("errors")
    assert errors.critical and errors.slo is not None and errors.slo.objective == 0.05
    assert spec.metric("latency_ms").quantiles == (0.5, 0.99)
    # every sample the simulator emits belongs to a metric of the spec
    samples = Simulator(scenario_library()["aa"], seed=0).tick(0.0, 2.0, 5.0)
    assert {s.metric for s in samples} == set(METRICS)


def test_the_default_spec_takes_alpha_and_the_step_policy() -> None:
    policy = StepPolicy(steps=(10.0, 100.0), min_step_seconds=5.0)
    spec = default_spec(alpha=0.05, policy=policy)
    assert (spec.alpha, spec.policy) == (0.05, policy)
    assert default_spec().policy == StepPolicy()


def test_a_gap_without_cohorts_or_metrics_named_drops_everything_in_its_window() -> None:
    scenario = Scenario("dark", rps=100.0, gaps=(TelemetryGap(10.0, 4.0),))
    sim = Simulator(scenario, seed=0)
    stamps = [s.ts for t in range(0, 20, 2) for s in sim.tick(float(t), 2.0, 10.0)]
    assert sorted(set(stamps)) == [2.0, 4.0, 6.0, 8.0, 14.0, 16.0, 18.0, 20.0]  # [10, 14)
