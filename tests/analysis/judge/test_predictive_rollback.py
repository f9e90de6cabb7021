"""Predictive rollback: a canary whose gauge is surely heading past its tolerance is rolled back
before the breach, and says so; a healthy canary is not (the forecast must hold up first)."""

from __future__ import annotations

import pytest

from sentra_ml.analysis.judge import RolloutJudge
from sentra_ml.analysis.types.errors import SpecError
from sentra_ml.analysis.types.labels import Action
from sentra_ml.analysis.types.specs import StepPolicy
from sentra_ml.analysis.types.verdict import Verdict
from sentra_ml.simulate import Simulator, default_spec, scenario_library


def _run(scenario: str, seed: int, p: float | None) -> Verdict:
    judge = RolloutJudge(default_spec(policy=StepPolicy(predictive_rollback=p)))
    sim = Simulator(scenario_library()[scenario], seed)
    weight, t, verdict = judge.weight, 0.0, None
    while t < 1200:
        for sample in sim.tick(t, 2.0, weight):
            judge.observe(sample)
        t += 2.0
        verdict = judge.evaluate(t)
        weight = verdict.weight
        if verdict.action in (Action.ROLLBACK, Action.PROMOTE):
            break
    assert verdict is not None
    return verdict


@pytest.mark.parametrize("seed", [12, 13])
def test_a_slow_leak_is_rolled_back_before_the_breach(seed: int) -> None:
    verdict = _run("slow_drift", seed, 0.9)
    assert verdict.action is Action.ROLLBACK
    assert any("before the breach" in r for r in verdict.reasons)
    assert any("memory_mb" in r or "cpu" in r for r in verdict.reasons)


@pytest.mark.parametrize("scenario", ["aa", "aa_heavy_tail"])
def test_a_healthy_canary_is_still_promoted_with_predictive_rollback_on(scenario: str) -> None:
    assert _run(scenario, 6, 0.9).action is Action.PROMOTE


def test_predictive_rollback_is_a_probability_of_at_least_one_half() -> None:
    with pytest.raises(SpecError, match="predictive_rollback"):
        StepPolicy(predictive_rollback=0.2)
