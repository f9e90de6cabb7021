"""Argo Rollouts: setWeight/pause steps with a background success-rate AnalysisRun."""

from __future__ import annotations

from incumbent_helpers import drive

from sentra_ml.analysis.incumbents import ArgoRollouts
from sentra_ml.analysis.types.labels import Action, Cohort
from sentra_ml.analysis.types.samples import RatioSample


def test_healthy_canary_walks_the_steps_and_promotes_after_the_last_pause() -> None:
    rule = ArgoRollouts()
    run = drive(rule, until=400)
    assert run.changes() == [(60, 40), (120, 60), (180, 80), (240, 100)]
    assert run.first(Action.PROMOTE) == 240
    assert run.verdicts[0].weight == 20 and run.verdicts[0].action is Action.CONTINUE
    # the first measurement (t=0) saw no canary series yet: an Error, not a failure
    assert rule.results[0].errors == 1 and rule.results[0].failed == 0


def test_failed_measurements_abort_after_failure_limit_plus_one() -> None:
    rule = ArgoRollouts(pause=600.0)  # long pauses: the analysis alone decides
    run = drive(rule, until=400, p_canary=0.10)  # success ratio 0.90 < 0.95
    assert run.changes() == [(240, 0)]  # failed at 60, 120, 180, 240: 4 > failureLimit 3
    assert rule.results[0].failed == 4
    assert run.final.action is Action.ROLLBACK
    assert "failed 4 > failureLimit 3" in run.final.reasons[0]


def test_measurement_is_taken_before_a_step_change_due_at_the_same_time() -> None:
    run = drive(ArgoRollouts(), until=400, p_canary=0.10)
    assert run.changes() == [(60, 40), (120, 60), (180, 80), (240, 0)]  # abort, not promote


def test_three_percent_errors_pass_the_documented_condition() -> None:
    run = drive(ArgoRollouts(), until=400, p_canary=0.03)  # 0.97 >= 0.95: Argo can't see it
    assert run.first(Action.PROMOTE) == 240


def test_latency_metric_is_optional() -> None:
    rule = ArgoRollouts(latency_max_ms=500.0, pause=600.0)
    run = drive(rule, until=400, median_canary=250.0)
    assert run.first(Action.ROLLBACK) == 240
    assert rule.results[1].name == "request-duration" and rule.results[1].failed == 4


def test_no_canary_data_errors_out_after_five_consecutive_errors() -> None:
    rule = ArgoRollouts(pause=600.0)
    run = drive(rule, until=400, canary_rps=0.0, latency=None)
    # no canary RatioSample has total > 0, but samples exist: NaN fails `result[0] >= 0.95`
    assert rule.results[0].failed == 4 and run.first(Action.ROLLBACK) == 240

    rule = ArgoRollouts(pause=600.0)  # no canary samples at all: empty result, an Error
    for k in range(1, 200):
        rule.observe(RatioSample(2.0 * k, Cohort.BASELINE, "errors", 100, 1))
        verdict = rule.evaluate(2.0 * k)
        if verdict.action is Action.ROLLBACK:
            break
    assert verdict.ts == 240 and rule.results[0].consecutive_errors == 5
    assert "consecutive errors 5 > consecutiveErrorLimit 4" in verdict.reasons[0]


def test_a_good_measurement_resets_consecutive_errors() -> None:
    rule = ArgoRollouts(pause=600.0)
    for minute in range(12):
        if minute % 3 == 2:
            rule.observe(RatioSample(60.0 * minute + 30, Cohort.CANARY, "errors", 100, 0))
        assert rule.evaluate(60.0 * minute + 59).action is Action.CONTINUE
    result = rule.results[0]
    assert (result.errors, result.successful, result.consecutive_errors) == (9, 3, 2)


def test_inconclusive_measurement_pauses_for_a_human() -> None:
    rule = ArgoRollouts(failure_below=0.90)
    run = drive(rule, until=400, p_canary=0.07)  # 0.93: neither >= 0.95 nor < 0.90
    assert run.first(Action.PAUSE) == 60
    assert run.final.action is Action.PAUSE and run.final.weight == 20
    assert "inconclusive 1 > inconclusiveLimit 0" in run.final.reasons[0]


def test_nan_fails_a_lone_success_condition_but_is_inconclusive_with_both() -> None:
    for failure_below, action in ((None, Action.CONTINUE), (0.5, Action.PAUSE)):
        rule = ArgoRollouts(failure_below=failure_below)
        rule.observe(RatioSample(30.0, Cohort.CANARY, "errors", 0, 0))  # 0/0 = NaN
        assert rule.evaluate(60.0).action is action
        assert rule.results[0].failed == (1 if failure_below is None else 0)
