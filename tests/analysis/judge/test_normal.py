"""The service learner as evidence: environment pauses, canary holds, never a rollback."""

from __future__ import annotations

import dataclasses
from functools import cache

import numpy as np
import pytest

from sentra_ml.analysis.anomaly import ServiceLearner
from sentra_ml.analysis.judge import RolloutJudge
from sentra_ml.analysis.judge.normal import REQUESTS, ServiceNormal, _Window, service_learner
from sentra_ml.analysis.types.labels import Action, Cohort
from sentra_ml.analysis.types.samples import LatencySample, RatioSample
from sentra_ml.analysis.types.verdict import Verdict
from sentra_ml.simulate import (
    EnvironmentIncident,
    ErrorStep,
    Simulator,
    default_spec,
    learned_history,
    scenario_library,
)

HOURS = 3.0


@cache
def _history(name: str) -> bytes:
    return learned_history(scenario_library()[name], HOURS, seed=99).to_bytes()


def _rollout(name: str, seed: int, learner: ServiceLearner | None, until: float) -> list[Verdict]:
    scenario = scenario_library()[name]
    judge = RolloutJudge(default_spec(), 0.0, learner)
    sim, t, out = Simulator(scenario, seed), 0.0, []
    while t < until:
        for sample in sim.tick(t, 2.0, judge.weight):
            judge.observe(sample)
        t += 2.0
        out.append(judge.evaluate(t))
        if out[-1].action in (Action.ROLLBACK, Action.PROMOTE):
            break
    return out


def _learner(name: str) -> ServiceLearner:
    return ServiceLearner.from_bytes(_history(name))


@pytest.mark.parametrize("seed", range(3))
def test_a_healthy_canary_raises_no_flag_and_still_promotes(seed: int) -> None:
    verdicts = _rollout("aa", seed, _learner("aa"), 900.0)
    assert verdicts[-1].action is Action.PROMOTE
    anomalies = [v.anomaly for v in verdicts if v.anomaly is not None]
    assert len(anomalies) == len(verdicts)
    assert all(a.warm and not (a.baseline_flag or a.canary_flag) for a in anomalies)
    assert verdicts[-1].to_dict()["anomaly"]["learned"] > 500  # type: ignore[index]


def test_a_rollout_started_during_an_incident_pauses_until_it_is_over() -> None:
    incident = scenario_library()["incident_at_start"].fault
    assert isinstance(incident, EnvironmentIncident)
    end = incident.onset + incident.duration
    without = _rollout("incident_at_start", 1, None, 900.0)
    assert without[-1].action is Action.PROMOTE and without[-1].ts < end  # blind to it
    verdicts = _rollout("incident_at_start", 1, _learner("incident_at_start"), 1200.0)
    during = [v for v in verdicts if 30.0 <= v.ts < end]
    assert during and all(v.action is Action.PAUSE for v in during)
    assert any("simulated: baseline unlike its learned normal (" in r for r in during[0].reasons)
    assert verdicts[-1].action is Action.PROMOTE and verdicts[-1].ts > end


def test_a_canary_unlike_the_service_is_held_until_its_tests_roll_back() -> None:
    scenario = dataclasses.replace(
        scenario_library()["error_step"], fault=ErrorStep(20.0, 0.03), name="early_step"
    )
    judge = RolloutJudge(default_spec(), 0.0, _learner("aa"))
    sim, t, held_at = Simulator(scenario, 0), 0.0, []
    while t < 600:
        for sample in sim.tick(t, 2.0, judge.weight):
            judge.observe(sample)
        t += 2.0
        verdict = judge.evaluate(t)
        if any(r.startswith("canary unlike anything simulated") for r in verdict.reasons):
            held_at.append((verdict.weight, verdict.current_weight, verdict.action))
        if verdict.action is Action.ROLLBACK:
            break
    assert verdict.action is Action.ROLLBACK
    assert held_at, "the learner never flagged a 3x error ratio"
    assert all(w == current and a is Action.CONTINUE for w, current, a in held_at)


def test_a_cold_learner_abstains() -> None:
    verdicts = _rollout("aa", 0, service_learner(), 120.0)
    anomaly = verdicts[-1].anomaly
    assert anomaly is not None and not anomaly.warm
    assert not any(
        v.anomaly and (v.anomaly.baseline_flag or v.anomaly.canary_flag) for v in verdicts
    )


def test_the_judge_learns_the_baseline_and_never_the_canary() -> None:
    learner = _learner("aa")
    before = learner.n
    normal = ServiceNormal(default_spec(), learner)
    for k in range(30):
        ts = 2.0 * (k + 1)
        normal.observe(RatioSample(ts, Cohort.CANARY, "errors", 500.0, 250.0))
        normal.observe(RatioSample(ts, Cohort.BASELINE, "errors", 500.0, 5.0))
        normal.close(ts)
    assert learner.n - before == 5  # one baseline window per 10 s (plus the first partial one)
    assert normal.holds() and normal.evidence().canary_flag


def test_windows_are_cut_to_the_same_number_of_requests() -> None:
    rng = np.random.default_rng(0)
    window = _Window(0.0)
    window.add(RatioSample(1.0, Cohort.BASELINE, "errors", 10_000.0, 100.0))
    window.add(LatencySample(1.0, Cohort.BASELINE, "latency", values=tuple(range(1000))))
    features = window.features(rng, REQUESTS, {"latency": (0.5,)}, 1.0)
    failed = features["errors.ratio"] * REQUESTS
    assert failed == round(failed) and 0 <= failed <= 12
    assert 2.0 < np.expm1(features["latency.p50.log"]) < 998.0
    assert window.requests == 10_000.0
