"""The judge end to end on simulated rollouts: the decisions a user relies on."""

from __future__ import annotations

import pytest

from sentra_ml.analysis.judge import RolloutJudge
from sentra_ml.analysis.types.errors import SampleError
from sentra_ml.analysis.types.labels import Action, Cohort, MetricStatus
from sentra_ml.analysis.types.samples import RatioSample
from sentra_ml.analysis.types.specs import StepPolicy
from sentra_ml.analysis.types.verdict import Verdict
from sentra_ml.simulate import (
    EnvironmentIncident,
    ErrorStep,
    Scenario,
    Simulator,
    TailLatency,
    TelemetryGap,
    default_spec,
    total_rps,
)

RPS = total_rps(20.0)


def run(
    scenario: Scenario,
    seed: int = 1,
    horizon: float = 900.0,
    dt: float = 2.0,
    fixed_weight: float | None = None,
    policy: StepPolicy | None = None,
) -> list[Verdict]:
    """Closed loop: the judge's weight is applied each tick (or held at `fixed_weight`)."""
    judge = RolloutJudge(default_spec(policy=policy), start_ts=0.0)
    sim = Simulator(scenario, seed)
    t, weight, history = 0.0, judge.weight, []
    while t < horizon:
        for sample in sim.tick(t, dt, fixed_weight if fixed_weight is not None else weight):
            judge.observe(sample)
        t += dt
        v = judge.evaluate(t)
        history.append(v)
        weight = v.weight
        if v.action in (Action.PROMOTE, Action.ROLLBACK):
            break
    return history


def test_healthy_canary_is_promoted_through_increasing_steps() -> None:
    history = run(Scenario("aa", RPS))
    assert history[-1].action is Action.PROMOTE
    assert history[-1].weight == 100.0
    weights = [v.weight for v in history]
    assert weights == sorted(weights)
    assert len(set(weights)) >= 4  # it walked the schedule, not jumped to the end
    assert not any(v.action is Action.ROLLBACK for v in history)


def test_error_step_is_rolled_back_with_reasons_naming_the_metric() -> None:
    history = run(Scenario("bad", RPS, fault=ErrorStep(0.0, 0.03)), fixed_weight=5.0)
    final = history[-1]
    assert final.action is Action.ROLLBACK
    assert final.weight == 0.0
    assert final.ts <= 120.0
    assert any("errors" in r for r in final.reasons)
    errors = next(e for e in final.evidence if e.metric == "errors")
    assert errors.status is MetricStatus.REGRESSION
    assert errors.effect is not None and errors.effect.low > 0.2  # beyond the 20 % tolerance


def test_tail_only_latency_regression_is_caught_by_p99() -> None:
    history = run(Scenario("tail", RPS, fault=TailLatency(0.0, 0.03, 5.0)), fixed_weight=5.0)
    final = history[-1]
    assert final.action is Action.ROLLBACK
    latency = next(e for e in final.evidence if e.metric == "latency_ms")
    assert latency.status is MetricStatus.REGRESSION
    assert "p99" in latency.summary


def test_missing_canary_telemetry_pauses_then_rolls_back_after_grace() -> None:
    gap = TelemetryGap(start=30.0, duration=10_000.0, cohorts=(Cohort.CANARY,))
    history = run(Scenario("gap", RPS, gaps=(gap,)), fixed_weight=5.0)
    pauses = [v for v in history if v.action is Action.PAUSE]
    assert pauses, "stale telemetry must pause first"
    assert any("no data from canary" in r for r in pauses[0].reasons)
    final = history[-1]
    assert final.action is Action.ROLLBACK
    assert any("fail-safe" in r for r in final.reasons)
    # the last canary sample is stamped 28 s; rollback once 15 + 60 s have passed without data
    assert 28.0 + 75.0 < final.ts <= 28.0 + 75.0 + 2.0


def test_environment_incident_pauses_instead_of_rolling_back() -> None:
    fault = EnvironmentIncident(60.0, 180.0, 0.08, 2.0)
    history = run(
        Scenario("env", RPS, fault=fault),
        fixed_weight=5.0,
        horizon=240.0,
        policy=StepPolicy(min_step_seconds=10_000.0, max_step_seconds=10_000.0),
    )
    assert not any(v.action is Action.ROLLBACK for v in history)
    paused = [v for v in history if v.action is Action.PAUSE]
    assert paused
    assert any("environment" in r for r in paused[0].reasons)


def test_rollback_is_final() -> None:
    history = run(Scenario("bad", RPS, fault=ErrorStep(0.0, 0.2)), fixed_weight=5.0)
    assert history[-1].action is Action.ROLLBACK
    # nothing the canary does afterwards can undo it
    judge = RolloutJudge(default_spec())
    judge._final = history[-1]
    assert judge.evaluate(10_000.0).action is Action.ROLLBACK


def test_unknown_metric_is_refused_with_its_name() -> None:
    judge = RolloutJudge(default_spec())
    with pytest.raises(SampleError, match="unknown metric 'nope'"):
        judge.observe(RatioSample(1.0, Cohort.CANARY, "nope", 10, 1))


def test_wrong_sample_kind_is_refused() -> None:
    judge = RolloutJudge(default_spec())
    with pytest.raises(SampleError, match="latency_ms"):
        judge.observe(RatioSample(1.0, Cohort.CANARY, "latency_ms", 10, 1))


def test_before_any_data_the_score_is_none_and_the_judge_waits() -> None:
    judge = RolloutJudge(default_spec(), start_ts=0.0)
    first = judge.evaluate(2.0)
    assert first.action is Action.CONTINUE and first.score is None and first.hold
    assert first.reasons[-1] == "waiting for data: holding at 1 %"
    assert first.to_dict()["score"] is None
    for cohort in (Cohort.BASELINE, Cohort.CANARY):
        judge.observe(RatioSample(3.0, cohort, "errors", 100, 1))
    later = judge.evaluate(4.0)
    assert later.score is not None
