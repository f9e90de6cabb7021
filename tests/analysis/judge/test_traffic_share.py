"""The traffic-share check: a canary serving less than its weight implies is paused or rolled
back, a correctly routed one never is, and a replay without weights compares with its past."""

from __future__ import annotations

import numpy as np

from sentra_ml.analysis.judge import RolloutJudge
from sentra_ml.analysis.judge.traffic_share import ShareFinding, TrafficShare
from sentra_ml.analysis.types.labels import Action, Cohort
from sentra_ml.analysis.types.samples import RatioSample
from sentra_ml.analysis.types.specs import RolloutSpec
from sentra_ml.simulate import default_spec

DT = 2.0
RPS = 100.0


def feed(
    check: TrafficShare,
    rng: np.random.Generator,
    share: float,
    start: float,
    seconds: float,
    *,
    canary_reports: bool = True,
) -> ShareFinding | None:
    """`seconds` of traffic where the canary serves `share` of the requests; the first finding."""
    t = start
    while t < start + seconds:
        t += DT
        n = rng.poisson(RPS * DT)
        canary = rng.binomial(n, share)
        if canary_reports:
            check.observe(RatioSample(t, Cohort.CANARY, "errors", float(canary), 0.0))
        check.observe(RatioSample(t, Cohort.BASELINE, "errors", float(n - canary), 0.0))
        found = check.close(t)
        if found is not None:
            return found.finding
    return None


def spec() -> RolloutSpec:
    return default_spec(alpha=0.01)


def test_a_canary_routed_as_its_weight_says_is_almost_never_paused() -> None:
    # 10-minute rollouts through 5, 10, 25, 50 %: the check's budget is alpha = 1 %
    rng = np.random.default_rng(7)
    runs, found = 150, 0
    for _ in range(runs):
        check = TrafficShare(spec(), 0.01, 0.0)
        t, hit = 0.0, None
        for weight in (5.0, 10.0, 25.0, 50.0):
            check.applied(weight, t)
            hit = hit or feed(check, rng, weight / 100, t, 150.0)
            t += 150.0
        found += hit is not None
    assert found <= 4  # expected at most 1.5; 4 is past the 95th percentile of Binomial(150, 1 %)


def test_a_canary_serving_two_thirds_of_its_share_is_paused_within_two_minutes() -> None:
    rng = np.random.default_rng(1)
    check = TrafficShare(spec(), 0.01, 0.0)
    check.applied(10.0, 0.0)
    assert feed(check, rng, 0.10 * 2 / 3, 0.0, 120.0) is ShareFinding.DEFICIT
    assert check.found is not None
    assert "10 % weight implies 10.0%" in check.found.reason
    assert "pausing, cause unknown" in check.found.reason


def test_a_canary_whose_share_collapsed_is_rolled_back() -> None:
    rng = np.random.default_rng(2)
    check = TrafficShare(spec(), 0.01, 0.0)
    check.applied(5.0, 0.0)
    found = feed(check, rng, 0.005, 0.0, 120.0)
    while found is ShareFinding.DEFICIT:  # a deficit becomes a collapse with more evidence
        found = feed(check, rng, 0.005, 120.0, 20.0)
    assert found is ShareFinding.COLLAPSE
    assert check.found is not None and "collapsed" in check.found.reason


def test_missing_canary_telemetry_is_not_counted_as_lost_traffic() -> None:
    check = TrafficShare(spec(), 0.01, 0.0)
    check.applied(5.0, 0.0)
    rng = np.random.default_rng(3)
    assert feed(check, rng, 0.05, 0.0, 300.0, canary_reports=False) is None


def test_without_weights_the_split_is_compared_with_its_own_past() -> None:
    # a replay: the recording sent 50 % to the canary whatever the plan said
    rng = np.random.default_rng(4)
    check = TrafficShare(spec(), 0.01, 0.0)
    assert feed(check, rng, 0.5, 0.0, 300.0) is None
    assert feed(check, rng, 0.25, 300.0, 120.0) is not None
    assert check.found is not None and "its own earlier share was 50" in check.found.reason


def test_the_routed_judge_rolls_back_a_canary_that_is_not_routed() -> None:
    judge = RolloutJudge(spec(), 0.0, follows_advice=False)
    judge.reached(5.0, 0.0)
    rng = np.random.default_rng(5)
    t, verdict = 0.0, None
    while t < 300.0:
        t += DT
        n = rng.poisson(RPS * DT)
        for cohort, count in ((Cohort.CANARY, 0), (Cohort.BASELINE, n)):
            judge.observe(RatioSample(t, cohort, "errors", float(count), 0.0))
        verdict = judge.evaluate(t)
        if verdict.action is Action.ROLLBACK:
            break
    assert verdict is not None and verdict.action is Action.ROLLBACK
    assert any("share collapsed" in r for r in verdict.reasons)


def test_a_canary_that_keeps_restarting_is_found_by_the_intervals_it_skips() -> None:
    # up 8 s, down 4 s: its own lines look healthy, it only reports less often than the baseline
    check = TrafficShare(spec(), 0.01, 0.0)
    check.applied(5.0, 0.0)
    rng = np.random.default_rng(6)
    t, found = 0.0, None
    while t < 120.0 and found is None:
        t += DT
        n = rng.poisson(RPS * DT)
        canary = rng.binomial(n, 0.05)
        if t % 12.0 < 8.0:
            check.observe(RatioSample(t, Cohort.CANARY, "errors", float(canary), 0.0))
        check.observe(RatioSample(t, Cohort.BASELINE, "errors", float(n - canary), 0.0))
        found = check.close(t)
    assert found is not None, "a crash loop must not pass as healthy"
    assert "reported nothing for" in found.reason


def test_cohorts_reporting_at_different_instants_are_not_a_mismatch() -> None:
    # pushed lines: the canary's exporter runs 0.9 s after the baseline's, with jitter
    rng = np.random.default_rng(8)
    runs, found = 40, 0
    for _ in range(runs):
        check = TrafficShare(spec(), 0.01, 0.0)
        check.applied(10.0, 0.0)
        t, hit = 0.0, None
        while t < 300.0 and hit is None:
            t += DT
            n = rng.poisson(RPS * DT)
            canary = rng.binomial(n, 0.10)
            jitter = 0.9 + rng.uniform(-0.5, 0.5)
            check.observe(RatioSample(t + jitter, Cohort.CANARY, "errors", float(canary), 0.0))
            check.observe(RatioSample(t, Cohort.BASELINE, "errors", float(n - canary), 0.0))
            hit = check.close(t + 1.5)
        found += hit is not None
    assert found <= 2
