"""One contract for every decision rule: Sentra's judge and each incumbent's re-implementation.

Every rule the benchmark drives takes samples and gives verdicts on one protocol
(`DecisionRule`); each must give a well-formed verdict at the time it is asked, stick to a
rollback or promotion once made, be a pure function of its input, and roll back a canary whose
error rate is ten times the baseline's.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable

import pytest
from incumbent_helpers import Run, drive

import sentra_ml.analysis.incumbents as incumbents
from sentra_ml.analysis.incumbents import (
    ArgoRollouts,
    DecisionRule,
    Flagger,
    Kayenta,
    OracleSPRT,
    StepRule,
)
from sentra_ml.analysis.judge import RolloutJudge
from sentra_ml.analysis.types.labels import Action
from sentra_ml.simulate import default_spec

RULES: dict[str, Callable[[], DecisionRule]] = {
    "sentra": lambda: RolloutJudge(default_spec()),
    "argo": ArgoRollouts,
    "flagger": Flagger,
    "kayenta": Kayenta,
    "oracle": lambda: OracleSPRT(p1=0.10, p0=0.01),
}
TERMINAL = (Action.ROLLBACK, Action.PROMOTE)


def test_every_incumbent_rule_has_a_contract() -> None:
    exported = {
        getattr(incumbents, name)
        for name in incumbents.__all__
        if inspect.isclass(getattr(incumbents, name))
        and issubclass(getattr(incumbents, name), StepRule)
        and getattr(incumbents, name) is not StepRule
    }
    assert exported == {ArgoRollouts, Flagger, Kayenta, OracleSPRT}


def _regressed(make: Callable[[], DecisionRule], seed: int = 0) -> Run:
    return drive(make(), until=1800.0, dt=2.0, p_canary=0.10, p_baseline=0.01, seed=seed)


@pytest.mark.parametrize("name", RULES)
def test_verdicts_are_well_formed_and_timed_when_asked(name: str) -> None:
    run = drive(RULES[name](), until=120.0, dt=2.0)
    asked = [2.0 * k for k in range(1, 61)]
    decided = next((v for v in run.verdicts if v.action in TERMINAL), None)
    # a rollback or promotion is the verdict from then on, with the time it was made
    assert [v.ts for v in run.verdicts] == [
        t if decided is None or t < decided.ts else decided.ts for t in asked
    ]
    for v in run.verdicts:
        assert isinstance(v.action, Action) and 0.0 <= v.weight <= 100.0 and 0.0 <= v.risk <= 1.0
        assert v.reasons and all(isinstance(r, str) and r for r in v.reasons)


@pytest.mark.parametrize("name", RULES)
def test_a_tenfold_error_rate_is_rolled_back_and_the_rollback_sticks(name: str) -> None:
    run = _regressed(RULES[name])
    first = run.first(Action.ROLLBACK)
    assert first is not None, f"{name} never rolled back: {run.final.reasons}"
    assert run.first(Action.PROMOTE) is None
    after = [v for v in run.verdicts if v.ts >= first]
    assert all(v.action is Action.ROLLBACK and v.weight == 0.0 for v in after)


@pytest.mark.parametrize("name", RULES)
def test_the_same_input_gives_the_same_verdicts(name: str) -> None:
    a, b = _regressed(RULES[name], seed=3), _regressed(RULES[name], seed=3)
    assert [(v.ts, v.action, v.weight, v.reasons) for v in a.verdicts] == [
        (v.ts, v.action, v.weight, v.reasons) for v in b.verdicts
    ]
