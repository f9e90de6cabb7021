"""Each fault changes what it should, in the cohorts it should, and only from its onset on."""

from __future__ import annotations

import dataclasses
import functools

import numpy as np
import pytest
from sim_helpers import BASE, CANARY, DT, error_ratio, gauge, quantile, run

from sentra_ml.analysis.types.labels import Action
from sentra_ml.analysis.types.samples import RatioSample, Sample
from sentra_ml.simulate import (
    CPU,
    MEMORY,
    Combined,
    EnvironmentIncident,
    ErrorStep,
    Scenario,
    scenario_library,
)

ONSET = 60.0
LIBRARY = scenario_library(onset=ONSET)
# faults with an onset inside the run ("incident_at_start" is already under way at t = 0)
FAULTY = [
    name
    for name, s in LIBRARY.items()
    if s.expected is not Action.PROMOTE and name != "incident_at_start"
]


@functools.cache
def fault_run(name: str, weight: float = 50.0, duration: float = 600.0) -> list[Sample]:
    return run(LIBRARY[name], seed=31, duration=duration, weight=weight)[1]


def healthy_twin(name: str, weight: float = 50.0, duration: float = 600.0) -> list[Sample]:
    """The same scenario and seed without its fault."""
    scenario = dataclasses.replace(LIBRARY[name], name="twin", fault=LIBRARY["aa"].fault)
    return run(scenario, seed=31, duration=duration, weight=weight)[1]


@pytest.mark.parametrize("name", FAULTY)
def test_before_the_onset_a_faulty_run_equals_the_healthy_one(name: str) -> None:
    faulty, healthy = fault_run(name), healthy_twin(name)
    before = [s for s in healthy if s.ts <= ONSET]
    assert before and [s for s in faulty if s.ts <= ONSET] == before
    after_canary = {s for s in faulty if s.ts > ONSET and s.cohort is CANARY}
    assert after_canary != {s for s in healthy if s.ts > ONSET and s.cohort is CANARY}


@pytest.mark.parametrize("name", [n for n in FAULTY if n != "environment_incident"])
def test_a_release_fault_leaves_the_baseline_alone(name: str) -> None:
    faulty, healthy = fault_run(name), healthy_twin(name)
    assert [s for s in faulty if s.cohort is BASE] == [s for s in healthy if s.cohort is BASE]


def test_error_step_raises_the_canary_error_ratio_to_the_new_level() -> None:
    samples = fault_run("error_step")
    assert error_ratio(samples, CANARY, lo=ONSET) == pytest.approx(0.03, rel=0.15)
    assert error_ratio(samples, BASE, lo=ONSET) == pytest.approx(0.01, rel=0.2)


def test_latency_shift_moves_every_canary_quantile_by_the_factor() -> None:
    samples = fault_run("latency_shift")
    for q in (0.1, 0.5, 0.9, 0.99):
        ratio = quantile(samples, CANARY, q, lo=ONSET) / quantile(samples, BASE, q, lo=ONSET)
        assert ratio == pytest.approx(1.3, abs=0.1)


def test_tail_latency_raises_p99_a_lot_and_leaves_the_median() -> None:
    samples = fault_run("tail_latency")

    def ratio(q: float, lo: float, hi: float) -> float:
        return quantile(samples, CANARY, q, lo, hi) / quantile(samples, BASE, q, lo, hi)

    assert ratio(0.99, ONSET, np.inf) > 1.4
    assert ratio(0.5, ONSET, np.inf) == pytest.approx(1.0, abs=0.04)
    assert ratio(0.99, 0.0, ONSET) == pytest.approx(1.0, abs=0.2)


def test_slow_drift_grows_canary_memory_linearly_and_degrades_latency_with_it() -> None:
    samples = fault_run("slow_drift")
    # ticks stamped in (540, 600] start at 538..598 s: 8.5 min after the onset on average
    lo, hi = 540.0, 600.0
    growth = 0.05 * (568.0 - ONSET) / 60.0
    before = gauge(samples, CANARY, MEMORY, hi=ONSET).mean()
    assert gauge(samples, CANARY, MEMORY, lo, hi).mean() / before == pytest.approx(
        1 + growth, abs=0.03
    )
    baseline_before = gauge(samples, BASE, MEMORY, hi=ONSET).mean()
    assert gauge(samples, BASE, MEMORY, lo, hi).mean() / baseline_before == pytest.approx(
        1.0, abs=0.01
    )
    # garbage collection: +30 % of the memory growth in latency and cpu
    median = quantile(samples, CANARY, 0.5, lo, hi) / quantile(samples, BASE, 0.5, lo, hi)
    assert median == pytest.approx(1 + 0.3 * growth, abs=0.05)
    # cpu carries AR(1) noise per instance: compare with the same canary instances unfaulted
    healthy = healthy_twin("slow_drift")
    cpu = gauge(samples, CANARY, CPU, lo, hi).mean() / gauge(healthy, CANARY, CPU, lo, hi).mean()
    assert cpu == pytest.approx(1 + 0.3 * growth, abs=0.03)


def test_bursts_fail_canary_requests_only_during_the_bursts() -> None:
    samples = fault_run("bursts", duration=1200.0)
    canary = [s for s in samples if isinstance(s, RatioSample) and s.cohort is CANARY]
    # IntermittentBursts(onset, period=120, burst_seconds=15, ratio=0.15), judged at tick start
    in_burst = [s for s in canary if s.ts - DT >= ONSET and (s.ts - DT - ONSET) % 120 < 15]
    quiet = [s for s in canary if s not in in_burst]
    assert len(in_burst) == 10 * 8
    burst_ratio = sum(s.failed for s in in_burst) / sum(s.total for s in in_burst)
    quiet_ratio = sum(s.failed for s in quiet) / sum(s.total for s in quiet)
    assert burst_ratio == pytest.approx(0.15, rel=0.1)
    assert quiet_ratio == pytest.approx(0.01, rel=0.2)


@pytest.mark.parametrize("weight", [5.0, 20.0])
def test_saturation_is_harmless_up_to_the_knee(weight: float) -> None:
    samples = fault_run("saturation", weight=weight)
    assert error_ratio(samples, CANARY) == pytest.approx(0.01, rel=0.3)
    ratio = quantile(samples, CANARY, 0.5) / quantile(samples, BASE, 0.5)
    assert ratio == pytest.approx(1.0, abs=0.04)


@pytest.mark.parametrize(("weight", "errors", "slowdown"), [(35.0, 0.045, 1.5), (50.0, 0.08, 2.0)])
def test_saturation_hurts_more_the_further_the_weight_passes_the_knee(
    weight: float, errors: float, slowdown: float
) -> None:
    samples = fault_run("saturation", weight=weight)
    assert error_ratio(samples, CANARY, lo=ONSET) == pytest.approx(errors, rel=0.1)
    assert error_ratio(samples, BASE, lo=ONSET) == pytest.approx(0.01, rel=0.2)
    ratio = quantile(samples, CANARY, 0.5, lo=ONSET) / quantile(samples, BASE, 0.5, lo=ONSET)
    assert ratio == pytest.approx(slowdown, rel=0.05)


def test_an_environment_incident_hits_both_cohorts_alike_and_ends() -> None:
    sim, samples = run(LIBRARY["environment_incident"], seed=31, duration=600.0, weight=50.0)
    # EnvironmentIncident(onset, duration=180, error_ratio=0.08, latency_factor=2)
    during, after = (ONSET, ONSET + 180.0), (ONSET + 180.0 + DT, np.inf)
    for cohort in (BASE, CANARY):
        assert error_ratio(samples, cohort, *during) == pytest.approx(0.08, rel=0.1)
        assert error_ratio(samples, cohort, *after) == pytest.approx(0.01, rel=0.25)
        slowdown = quantile(samples, cohort, 0.5, *during) / quantile(samples, cohort, 0.5, *after)
        assert slowdown == pytest.approx(2.0, rel=0.05)
    assert sim.excess_failed == 0.0
    assert LIBRARY["environment_incident"].expected is Action.PAUSE


def test_excess_failed_blames_the_release_not_the_environment() -> None:
    both = Combined((EnvironmentIncident(100.0, 100.0, 0.08), ErrorStep(0.0, 0.03)))
    sim, samples = run(Scenario("both", 400.0, fault=both), seed=3, duration=300.0)
    # 0.03 vs 0.01 outside the incident; during it the baseline fails 8 % and the canary too
    outside = [
        s
        for s in samples
        if isinstance(s, RatioSample) and s.cohort is CANARY and not 100.0 < s.ts <= 200.0
    ]
    assert sim.excess_failed == pytest.approx(0.02 * sum(s.total for s in outside))
    assert both.onset == 0.0
