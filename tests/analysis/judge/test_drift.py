"""Forecast holds: a slow leak keeps the rollout from promoting; stationary noise does not."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from sentra_ml.analysis.judge import RolloutJudge
from sentra_ml.analysis.judge.drift import DriftWatch
from sentra_ml.analysis.types.errors import SpecError
from sentra_ml.analysis.types.labels import Action, Cohort
from sentra_ml.analysis.types.samples import GaugeSample
from sentra_ml.simulate import Simulator, default_spec, scenario_library


def _watch(growth_per_step: float, seed: int = 0) -> DriftWatch:
    watch = DriftWatch(default_spec())
    rng = np.random.default_rng(seed)
    for k in range(90):
        t = 2.0 * k
        for cohort, level in ((Cohort.BASELINE, 1.0), (Cohort.CANARY, 1.0 + growth_per_step * k)):
            value = 500 * level * (1 + rng.normal(0, 0.01))
            watch.observe(GaugeSample(t, cohort, "memory_mb", value, "i1"))
        watch.close(t)
    return watch


def test_a_leak_is_forecast_past_tolerance() -> None:
    drifting = _watch(0.002).drifting()  # +0.2 % per 2 s: +25 % after about 4 min
    assert [d.metric for d in drifting] == ["memory_mb"]
    reason = drifting[0].reason(0.25)
    assert "memory_mb" in reason and "rising" in reason and "holding" in reason


@pytest.mark.parametrize("seed", range(5))
def test_noise_is_not_a_leak(seed: int) -> None:
    assert _watch(0.0, seed).drifting() == []


def test_a_short_ramp_is_not_extrapolated_to_the_horizon() -> None:
    """A new pod's rate() window fills over its first 30 s (canary -3 % -> +1 %): a line over
    30 s may reach 90 s ahead (+13 %), not the 10-minute horizon (+81 %)."""
    watch = DriftWatch(default_spec())
    for k in range(16):
        t = 2.0 * k
        for cohort, value in ((Cohort.BASELINE, 500.0), (Cohort.CANARY, 485.0 + 20.0 * k / 15)):
            watch.observe(GaugeSample(t, cohort, "memory_mb", value, "i1"))
        watch.close(t)
    assert watch.drifting() == []


def _final(forecast: bool, seed: int) -> Action:
    spec = default_spec()
    if not forecast:
        spec = dataclasses.replace(spec, forecast_horizon_seconds=0.0)
    scenario = scenario_library()["slow_drift"]
    judge, sim, t = RolloutJudge(spec), Simulator(scenario, seed), 0.0
    verdict = judge.evaluate(0.0)
    while t < 900 and verdict.action not in (Action.PROMOTE, Action.ROLLBACK):
        for sample in sim.tick(t, 2.0, judge.weight):
            judge.observe(sample)
        t += 2.0
        verdict = judge.evaluate(t)
    return verdict.action


def test_the_judge_does_not_promote_a_leak_it_would_promote_without_forecasts() -> None:
    seeds = range(20_000, 20_003)  # benchmarks/ablation.py measures the rates over many seeds
    assert [_final(False, s) for s in seeds].count(Action.PROMOTE) == 3
    assert [_final(True, s) for s in seeds].count(Action.PROMOTE) <= 1


def test_the_horizon_is_validated() -> None:
    with pytest.raises(SpecError, match="forecast_horizon_seconds"):
        dataclasses.replace(default_spec(), forecast_horizon_seconds=-1.0)
