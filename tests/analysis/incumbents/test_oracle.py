"""The oracle SPRT: Wald's test with the true fault parameters, the limit of detection speed."""

from __future__ import annotations

import math

import numpy as np
import pytest
from incumbent_helpers import latency_sample

from sentra_ml.analysis.incumbents import OracleSPRT
from sentra_ml.analysis.types.labels import Action, Cohort
from sentra_ml.analysis.types.samples import RatioSample


def _time_to_rollback(
    oracle: OracleSPRT, p: float, seed: int, until: float, dt: float = 1.0, rps: float = 20.0
) -> float | None:
    rng = np.random.default_rng(seed)
    for k in range(1, int(until / dt) + 1):
        t = k * dt
        n = int(rng.poisson(rps * dt))
        oracle.observe(RatioSample(t, Cohort.CANARY, "errors", n, int(rng.binomial(n, p))))
        oracle.observe(RatioSample(t, Cohort.BASELINE, "errors", n, int(rng.binomial(n, 0.01))))
        verdict = oracle.evaluate(t)
        if verdict.action is Action.ROLLBACK:
            return t
        assert verdict.action is Action.CONTINUE and verdict.weight == 10.0
    return None


def test_drift_matches_kl_divergence() -> None:
    p1, p0 = 0.03, 0.01
    kl = p1 * math.log(p1 / p0) + (1 - p1) * math.log((1 - p1) / (1 - p0))
    assert 20 * kl == pytest.approx(0.263, abs=0.001)  # nats per second at 20 req/s
    assert OracleSPRT(p1=p1, p0=p0).boundary == pytest.approx(math.log(100))


def test_one_to_three_percent_step_is_caught_in_about_eighteen_seconds() -> None:
    times = [
        _time_to_rollback(OracleSPRT(p1=0.03, p0=0.01), 0.03, seed, until=600)
        for seed in range(200)
    ]
    assert all(t is not None for t in times)
    found = np.array(times, dtype=float)
    # ln(100) / 0.263 = 17.5 s, plus the overshoot of the last step over the boundary
    assert 15.0 <= float(np.median(found)) <= 22.0
    assert 16.0 <= float(found.mean()) <= 25.0
    assert float(np.percentile(found, 95)) < 60.0


def test_null_stream_is_not_rolled_back() -> None:
    alarms = [
        _time_to_rollback(OracleSPRT(p1=0.03, p0=0.01), 0.01, seed, until=1800, dt=2.0)
        for seed in range(50)
    ]
    assert sum(a is not None for a in alarms) <= 2  # Ville: at most alpha = 1 % ever
    oracle = OracleSPRT(p1=0.03, p0=0.01)
    assert _time_to_rollback(oracle, 0.01, seed=7, until=1800, dt=2.0) is None
    assert oracle.llr < 0  # the sum drifts down under the null
    verdict = oracle.evaluate(1800.0)
    assert verdict.action is Action.CONTINUE and verdict.weight == 10.0
    no_fault = OracleSPRT(p1=0.01, p0=0.01)  # no fault: increments are 0, it never acts
    assert _time_to_rollback(no_fault, 0.05, seed=1, until=600) is None


def test_samples_before_the_onset_are_ignored() -> None:
    oracle = OracleSPRT(p1=0.03, p0=0.01, onset=100.0)
    for t in range(1, 101):
        oracle.observe(RatioSample(float(t), Cohort.CANARY, "errors", 20, 20))
    assert oracle.evaluate(100.0).action is Action.CONTINUE and oracle.llr == 0.0
    oracle.observe(RatioSample(101.0, Cohort.CANARY, "errors", 20, 5))
    assert oracle.evaluate(101.0).action is Action.ROLLBACK
    assert oracle.evaluate(500.0).weight == 0.0


@pytest.mark.parametrize("mode", ["values", "buckets"])
def test_latency_faults_use_exceedance_counts(mode: str) -> None:
    # threshold at a bucket bound (500 ms); the canary's median doubles from 100 to 200 ms
    def exceedance(median: float) -> float:  # P(lognormal(log median, 0.5) > 500)
        return 0.5 * math.erfc(math.log(500.0 / median) / (0.5 * math.sqrt(2.0)))

    q0, q1 = exceedance(100.0), exceedance(200.0)
    oracle = OracleSPRT(threshold_ms=500.0, q1=q1, q0=q0)
    rng = np.random.default_rng(5)
    for k in range(1, 301):
        values = rng.lognormal(math.log(200.0), 0.5, 40)
        oracle.observe(latency_sample(2.0 * k, Cohort.CANARY, values, mode))
        if oracle.evaluate(2.0 * k).action is Action.ROLLBACK:
            break
    assert oracle.final is Action.ROLLBACK and oracle.decided_at is not None
    assert oracle.decided_at < 120.0
    assert oracle.bad_requests > 0 and oracle.requests == 40 * k


def test_constructor_needs_one_complete_fault_model() -> None:
    with pytest.raises(ValueError):
        OracleSPRT()
    with pytest.raises(ValueError):
        OracleSPRT(p1=0.03)
    with pytest.raises(ValueError):
        OracleSPRT(p1=0.03, p0=0.01, threshold_ms=500.0, q1=0.1, q0=0.01)
    with pytest.raises(ValueError):
        OracleSPRT(p1=1.5, p0=0.01)
