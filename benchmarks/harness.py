"""The closed loop shared by every benchmark run: simulator -> rule -> weight -> simulator."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

from sentra_ml.analysis.incumbents import ArgoRollouts, DecisionRule, Flagger, Kayenta, OracleSPRT
from sentra_ml.analysis.judge import RolloutJudge
from sentra_ml.analysis.types import Action, StepPolicy
from sentra_ml.simulate import ErrorStep, Scenario, Simulator, default_spec

DT = 2.0
RULES = ("sentra", "kayenta", "flagger", "argo", "oracle")


def make_rule(name: str, scenario: Scenario, fixed_weight: float | None) -> DecisionRule | None:
    """A fresh rule; the oracle exists only where the true fault size is known (error steps)."""
    if name == "sentra":
        # with the weight held by the harness, the judge must not walk (or finish) its schedule
        hold = StepPolicy(min_step_seconds=1e9, max_step_seconds=1e9)
        return RolloutJudge(default_spec(policy=hold if fixed_weight is not None else None))
    if name == "kayenta":
        return Kayenta()
    if name == "flagger":
        return Flagger()
    if name == "argo":
        return ArgoRollouts()
    fault = scenario.fault
    if name == "oracle" and isinstance(fault, ErrorStep):
        base = scenario.service.error_ratio
        return OracleSPRT(p1=fault.ratio, p0=base, onset=fault.onset, weight=fixed_weight or 5.0)
    return None


@dataclass(frozen=True)
class RunResult:
    rule: str
    scenario: str
    seed: int
    onset: float
    action: str  # the last action: rollback, promote, or what stood at the horizon
    decided_at: float  # when it rolled back or promoted (inf if neither)
    paused: bool  # whether any PAUSE verdict was issued
    excess_failed: float

    @property
    def delay(self) -> float:
        return self.decided_at - self.onset if self.action == "rollback" else math.inf


def run_once(
    rule_name: str,
    scenario: Scenario,
    seed: int,
    horizon: float,
    fixed_weight: float | None = None,
    pause_window: tuple[float, float] | None = None,
) -> RunResult | None:
    """One run; `fixed_weight` holds the canary weight whatever the rule says."""
    rule = make_rule(rule_name, scenario, fixed_weight)
    if rule is None:
        return None
    sim = Simulator(scenario, seed)
    weight: float = fixed_weight if fixed_weight is not None else float(rule.weight)
    t, paused, last, decided = 0.0, False, Action.CONTINUE, math.inf
    while t < horizon:
        for sample in sim.tick(t, DT, weight):
            rule.observe(sample)
        t += DT
        v = rule.evaluate(t)
        last = v.action
        in_window = pause_window is None or pause_window[0] <= t <= pause_window[1]
        paused = paused or (v.action is Action.PAUSE and in_window)
        if fixed_weight is None:
            weight = v.weight
        if v.action in (Action.ROLLBACK, Action.PROMOTE):
            decided = t
            break
    onset = getattr(scenario.fault, "onset", math.inf)
    return RunResult(
        rule_name, scenario.name, seed, onset, str(last), decided, paused, sim.excess_failed
    )


def with_onset(scenario: Scenario, onset: float) -> Scenario:
    return dataclasses.replace(scenario, fault=dataclasses.replace(scenario.fault, onset=onset))
