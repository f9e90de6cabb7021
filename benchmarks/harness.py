"""The closed loop of one run: simulator -> rule -> (weight) -> simulator, every DT seconds."""

from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import dataclass

from benchmarks.rules import make_rule
from sentra_ml.analysis.types.labels import Action
from sentra_ml.simulate import Scenario, Simulator, scenario_library

DT = 2.0  # Sentra evaluates every 2 s; the incumbents are called as often, act on their schedule
_TERMINAL = (Action.ROLLBACK, Action.PROMOTE)


@dataclass(frozen=True)
class Job:
    """One run of the matrix; everything a worker needs to rebuild it (picklable, JSON-able)."""

    measurement: str  # "A" detection, "B" bad release, "C" A/A, "D" environment incident
    rule: str
    scenario: str
    seed: int
    horizon: float  # stop here when nothing was decided (s)
    onset: float | None = None  # replaces the library fault's onset
    fixed_weight: float | None = None  # hold the canary weight, whatever the rule says
    pause_window: tuple[float, float] | None = None  # count PAUSE verdicts only in here

    def build_scenario(self) -> Scenario:
        scenario = scenario_library()[self.scenario]
        if self.onset is None:
            return scenario
        fault = dataclasses.replace(scenario.fault, onset=self.onset)  # type: ignore[type-var]
        return dataclasses.replace(scenario, fault=fault)


@dataclass(frozen=True)
class RunResult:
    """What one run ended with; times are simulated seconds, inf when it never happened."""

    measurement: str
    rule: str
    scenario: str
    seed: int
    onset: float  # the fault's onset (inf without a fault)
    action: str  # rollback, promote, or the last verdict's action at the horizon
    decided_at: float  # time of the rollback or promotion
    end: float  # when the run stopped
    paused: bool  # a PAUSE verdict was issued (within the job's pause window)
    excess_failed: float  # canary failures caused by the release (simulator ground truth)
    canary_requests: int  # requests the canary served until the run stopped
    cpu_seconds: float  # wall time of the run, for planning
    flagged: str = ""  # the service learner flagged "baseline", "canary", both or neither

    @property
    def rolled_back(self) -> bool:
        return self.action == Action.ROLLBACK.value

    @property
    def promoted(self) -> bool:
        return self.action == Action.PROMOTE.value

    @property
    def delay(self) -> float:
        """Rollback time minus onset; inf when not rolled back at or after the onset."""
        if self.rolled_back and self.decided_at >= self.onset:
            return self.decided_at - self.onset
        return math.inf


def run(job: Job) -> RunResult | None:
    """One run; None when the rule does not exist for the scenario (the oracle without a fault)."""
    started = time.perf_counter()
    scenario = job.build_scenario()
    rule = make_rule(job.rule, scenario)
    if rule is None:
        return None
    sim = Simulator(scenario, job.seed)
    weight = job.fixed_weight if job.fixed_weight is not None else float(rule.weight)
    t, paused, last, decided = 0.0, False, Action.CONTINUE, math.inf
    flagged: set[str] = set()
    while t < job.horizon - 1e-9:
        for sample in sim.tick(t, DT, weight):
            rule.observe(sample)
        t += DT
        verdict = rule.evaluate(t)
        last = verdict.action
        if verdict.anomaly is not None:
            flagged |= {"baseline"} if verdict.anomaly.baseline_flag else set()
            flagged |= {"canary"} if verdict.anomaly.canary_flag else set()
        if last is Action.PAUSE:
            lo, hi = job.pause_window or (-math.inf, math.inf)
            paused = paused or lo <= t <= hi
        if job.fixed_weight is None:
            weight = verdict.weight
        if last in _TERMINAL:
            decided = t
            break
    return RunResult(
        measurement=job.measurement,
        rule=job.rule,
        scenario=job.scenario,
        seed=job.seed,
        onset=float(scenario.fault.onset),
        action=last.value,
        decided_at=decided,
        end=t,
        paused=paused,
        excess_failed=float(sim.excess_failed),
        canary_requests=int(sim.canary_requests),
        cpu_seconds=time.perf_counter() - started,
        flagged="+".join(sorted(flagged)),
    )
