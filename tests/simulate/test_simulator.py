"""The simulator's contract: seeded, well-formed samples, traffic split, gaps, ground truth."""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pytest
from scipy import stats
from sim_helpers import BASE, CANARY, DT, counts, error_ratio, run

from sentra_ml.analysis.types.samples import GaugeSample, LatencySample, RatioSample
from sentra_ml.simulate import (
    CPU,
    ERRORS,
    LATENCY,
    LATENCY_BUCKETS_MS,
    MEMORY,
    ErrorStep,
    Scenario,
    Simulator,
    TelemetryGap,
    Traffic,
)

AA = Scenario("aa", rps=400.0)


def test_same_seed_gives_the_same_samples_and_another_seed_does_not() -> None:
    first = run(AA, seed=11, duration=60.0)[1]
    again = run(AA, seed=11, duration=60.0)[1]
    other = run(AA, seed=12, duration=60.0)[1]
    assert first == again
    assert first != other


def test_each_tick_has_one_ratio_and_one_latency_sample_per_cohort_and_gauges_per_instance() -> (
    None
):
    samples = Simulator(AA, seed=1).tick(100.0, DT, 5.0)
    assert all(s.ts == 102.0 for s in samples)
    kinds = Counter((type(s).__name__, s.cohort, getattr(s, "metric", "")) for s in samples)
    for cohort in (BASE, CANARY):
        assert kinds[("RatioSample", cohort, ERRORS)] == 1
        assert kinds[("LatencySample", cohort, LATENCY)] == 1
    # 400 rps at 25 rps per instance: a fleet of 16, 1 canary instance at 5 %, 16 baseline ones
    cpu = {
        (s.cohort, s.instance) for s in samples if isinstance(s, GaugeSample) and s.metric == CPU
    }
    assert {i for c, i in cpu if c is CANARY} == {"canary-0"}
    assert len({i for c, i in cpu if c is BASE}) == 16
    gauges = [s for s in samples if isinstance(s, GaugeSample)]
    assert len([s for s in gauges if s.metric == MEMORY]) == len(cpu)
    assert all(0.0 <= s.value <= 1.0 for s in gauges if s.metric == CPU)


def test_canary_instances_scale_with_the_weight() -> None:
    sim = Simulator(AA, seed=1)

    def canary_instances(weight: float) -> int:
        return sum(
            1
            for s in sim.tick(0.0, DT, weight)
            if isinstance(s, GaugeSample) and s.metric == CPU and s.cohort is CANARY
        )

    assert [canary_instances(w) for w in (0.0, 1.0, 5.0, 20.0, 50.0, 100.0)] == [1, 1, 1, 4, 8, 16]


@pytest.mark.parametrize("weight", [1.0, 10.0, 50.0, 90.0])
def test_canary_share_of_requests_follows_the_weight(weight: float) -> None:
    _, samples = run(AA, seed=3, duration=600.0, weight=weight)
    canary, baseline = counts(samples, CANARY)[1], counts(samples, BASE)[1]
    total = canary + baseline
    assert total == pytest.approx(400.0 * 600.0, rel=0.02)
    # the binomial split: 5 standard deviations
    sd = math.sqrt(total * weight / 100 * (1 - weight / 100))
    assert abs(canary - total * weight / 100) < 5 * sd


def test_a_cohort_without_requests_still_reports_an_empty_interval() -> None:
    for weight, empty in ((0.0, CANARY), (100.0, BASE)):
        samples = Simulator(AA, seed=2).tick(0.0, DT, weight)
        ratio = [s for s in samples if isinstance(s, RatioSample) and s.cohort is empty]
        latency = [s for s in samples if isinstance(s, LatencySample) and s.cohort is empty]
        assert [(r.total, r.failed) for r in ratio] == [(0.0, 0.0)]
        assert [lat.count for lat in latency] == [0.0]


def test_diurnal_traffic_follows_the_sinusoid_and_averages_to_rps() -> None:
    traffic = Traffic(rps=100.0, diurnal_amplitude=0.5, diurnal_period=600.0)
    assert traffic.rate(150.0) == pytest.approx(150.0)  # the peak, a quarter period in
    assert traffic.rate(450.0) == pytest.approx(50.0)
    mean = np.mean([traffic.mean_rate(t, 10.0) for t in np.arange(0.0, 600.0, 10.0)])
    assert mean == pytest.approx(100.0)
    rng = np.random.default_rng(0)
    peak = sum(sum(traffic.arrivals(rng, t, 1.0, 10.0)) for t in np.arange(100.0, 200.0))
    trough = sum(sum(traffic.arrivals(rng, t, 1.0, 10.0)) for t in np.arange(400.0, 500.0))
    assert peak > 2.0 * trough


def test_raw_latency_values_are_capped_but_request_counts_stay_exact() -> None:
    busy = Scenario("busy", rps=20_000.0, max_latency_values=500)
    samples = Simulator(busy, seed=4).tick(0.0, DT, 50.0)
    for cohort in (BASE, CANARY):
        (ratio,) = [s for s in samples if isinstance(s, RatioSample) and s.cohort is cohort]
        (lat,) = [s for s in samples if isinstance(s, LatencySample) and s.cohort is cohort]
        assert ratio.total > 15_000
        assert len(lat.values) == 500


def test_buckets_are_cumulative_prometheus_histograms_of_all_requests() -> None:
    bucketed = Scenario("b", rps=400.0, latency_buckets=True, max_latency_values=100)
    _, samples = run(bucketed, seed=5, duration=120.0)
    lat = [s for s in samples if isinstance(s, LatencySample)]
    totals = {(s.ts, s.cohort): s.total for s in samples if isinstance(s, RatioSample)}
    assert lat and all(not s.values for s in lat)
    assert all(tuple(le for le, _ in s.buckets) == LATENCY_BUCKETS_MS for s in lat)
    assert LATENCY_BUCKETS_MS[-1] == math.inf
    assert all(s.count == totals[(s.ts, s.cohort)] for s in lat)
    # lognormal(median 80 ms, sigma 0.5): P(latency <= 100 ms) = Phi(ln(1.25) / 0.5) = 0.672
    at_100 = sum(dict(s.buckets)[100.0] for s in lat) / sum(s.count for s in lat)
    expected = stats.norm.cdf(math.log(100 / 80) / 0.5)
    assert at_100 == pytest.approx(expected, abs=0.02)


def test_a_gap_drops_exactly_its_cohorts_and_metrics_while_accounting_goes_on() -> None:
    gap = TelemetryGap(start=100.0, duration=50.0, cohorts=(CANARY,), metrics=(ERRORS, CPU))
    gapped = Scenario("gap", rps=400.0, fault=ErrorStep(0.0, 0.03), gaps=(gap,))
    full = Scenario("full", rps=400.0, fault=ErrorStep(0.0, 0.03))
    sim_gap, with_gap = run(gapped, seed=6, duration=300.0)
    sim_full, without = run(full, seed=6, duration=300.0)

    def key(s: object) -> tuple[object, ...]:
        return (s.ts, s.cohort, s.metric, type(s).__name__)  # type: ignore[attr-defined]

    missing = Counter(map(key, without)) - Counter(map(key, with_gap))
    assert {(c, m) for _, c, m, _ in missing} == {(CANARY, ERRORS), (CANARY, CPU)}
    assert {ts for ts, *_ in missing} == set(np.arange(100.0, 150.0, DT))
    assert set(with_gap) <= set(without)
    assert sim_gap.canary_requests == sim_full.canary_requests
    assert sim_gap.excess_failed == sim_full.excess_failed


def test_excess_failed_counts_the_canary_failures_the_error_step_adds() -> None:
    onset = 60.0
    sim, samples = run(Scenario("step", rps=400.0, fault=ErrorStep(onset, 0.03)), duration=600.0)
    failed, total = counts(samples, CANARY)
    assert (sim.canary_failed, sim.canary_requests) == (failed, total)
    after = counts(samples, CANARY, lo=onset)[1]
    assert sim.excess_failed == pytest.approx((0.03 - 0.01) * after)
    # the realised failures agree with the ground truth
    realised_excess = counts(samples, CANARY, lo=onset)[0] - 0.01 * after
    assert realised_excess == pytest.approx(sim.excess_failed, rel=0.1)
    assert error_ratio(samples, CANARY, hi=onset) == pytest.approx(0.01, abs=0.004)


def test_no_fault_means_no_excess() -> None:
    sim, _ = run(AA, duration=120.0)
    assert sim.excess_failed == 0.0
    assert sim.canary_requests > 0


@pytest.mark.parametrize(("dt", "weight"), [(0.0, 5.0), (1.0, -1.0), (1.0, 100.5)])
def test_invalid_tick_arguments_are_rejected(dt: float, weight: float) -> None:
    with pytest.raises(ValueError):
        Simulator(AA, seed=0).tick(0.0, dt, weight)
