"""Flagger: one check per interval on the canary alone; rollback on the tick after `threshold`."""

from __future__ import annotations

import math

import numpy as np
import pytest
from incumbent_helpers import BUCKETS, buckets_of, drive

from sentra_ml.analysis.incumbents import Flagger, latency_quantile, merge_latency
from sentra_ml.analysis.types.labels import Action, Cohort, MetricStatus
from sentra_ml.analysis.types.samples import LatencySample, RatioSample

HEALTHY = 0.001  # Flagger's 99 % success threshold sits on a 1 % error rate: keep well below


@pytest.mark.parametrize("latency", ["values", "buckets"])
def test_healthy_canary_advances_every_interval_and_promotes_at_300s(latency: str) -> None:
    run = drive(Flagger(), until=420, p_canary=HEALTHY, p_baseline=HEALTHY, latency=latency)
    # interval * maxWeight / stepWeight = 60 * 50 / 10 (Flagger's documented formula)
    assert run.changes() == [(60, 20), (120, 30), (180, 40), (240, 50), (300, 100)]
    assert run.first(Action.PROMOTE) == 300
    assert all(v.action is Action.CONTINUE and v.weight == 10 for v in run.verdicts if v.ts < 60)
    assert run.final.action is Action.PROMOTE and run.final.weight == 100


def test_three_percent_errors_roll_back_on_the_tick_after_five_failed_checks() -> None:
    rule = Flagger()
    run = drive(rule, until=600, p_canary=0.03, p_baseline=0.01)
    assert run.changes() == [(360, 0)]  # checks fail at 60..300, the 6th tick rolls back
    assert rule.failed_checks == 5
    assert all(v.weight == 10 for v in run.verdicts if v.ts < 360)  # halted, never advanced
    at_300 = next(v for v in run.verdicts if v.ts == 300)
    assert "request-success-rate 9" in at_300.reasons[0]
    assert "< 99 % (failed checks 5/5)" in at_300.reasons[0]
    assert run.first(Action.ROLLBACK) == 360
    assert run.final.action is Action.ROLLBACK and run.final.weight == 0
    assert run.final.current_weight == 0


def test_p99_latency_over_500ms_fails_the_check() -> None:
    run = drive(Flagger(), until=420, p_canary=HEALTHY, p_baseline=HEALTHY, median_canary=250.0)
    assert run.first(Action.ROLLBACK) == 360
    evidence = next(v for v in run.verdicts if v.ts == 60).evidence
    assert [e.status for e in evidence] == [MetricStatus.SAFE, MetricStatus.REGRESSION]
    assert float(evidence[1].details["value"]) > 500


def test_no_canary_requests_is_a_failed_check() -> None:
    rule = Flagger()
    run = drive(rule, until=420, p_canary=HEALTHY, p_baseline=HEALTHY, canary_rps=0.0)
    assert run.first(Action.ROLLBACK) == 360
    assert "no values found" in next(v for v in run.verdicts if v.ts == 60).reasons[0]


def test_failed_checks_halt_advancement_and_accumulate() -> None:
    rule = Flagger(duration_max_ms=None)

    def minute_of_errors(t0: float, failed: int) -> None:
        for k in range(1, 31):
            rule.observe(
                RatioSample(t0 + 2 * k, Cohort.CANARY, "errors", 20, failed if k == 1 else 0)
            )

    weights = []
    for minute, failed in enumerate([0, 20, 0, 20, 0, 0, 0]):  # 20/600 = 3.3 % in bad minutes
        minute_of_errors(60.0 * minute, failed)
        weights.append((rule.evaluate(60.0 * (minute + 1)).weight, rule.failed_checks))
    assert weights == [(20, 0), (20, 1), (30, 1), (30, 2), (40, 2), (50, 2), (100, 2)]
    assert rule.final is Action.PROMOTE


def test_terminal_verdicts_stick() -> None:
    rule = Flagger(threshold=1)
    for t in (60.0, 120.0):
        assert rule.evaluate(t).action is (Action.CONTINUE if t == 60 else Action.ROLLBACK)
    later = rule.evaluate(10_000.0)
    assert later.action is Action.ROLLBACK and later.weight == 0


def test_step_weight_can_overshoot_max_weight() -> None:
    rule = Flagger(step_weight=20, max_weight=50, duration_max_ms=None)
    for minute in range(4):
        rule.observe(RatioSample(60.0 * minute + 30, Cohort.CANARY, "errors", 1000, 0))
        rule.evaluate(60.0 * (minute + 1))
    assert rule.weight == 100 and rule.final is Action.PROMOTE  # 20 -> 40 -> 60 -> promote


def test_bucket_quantile_interpolates_like_histogram_quantile() -> None:
    values = np.random.default_rng(3).lognormal(math.log(100.0), 0.5, 20_000)
    exact = float(np.quantile(values, 0.99))
    bucketed = latency_quantile(
        [LatencySample(1.0, Cohort.CANARY, "l", buckets=buckets_of(values))], 0.99
    )
    lo = max(le for le in BUCKETS if le <= exact)
    hi = min(le for le in BUCKETS if le >= exact)
    assert lo <= bucketed <= hi  # linear within the (250, 500] bucket, as Prometheus does
    one = merge_latency(
        [LatencySample(1.0, Cohort.CANARY, "l", buckets=((100.0, 50.0), (math.inf, 100.0)))]
    )
    assert one is not None and one.quantile(0.25) == pytest.approx(50.0)
    assert one.quantile(0.99) == 100.0  # in the +Inf bucket: its lower bound


def test_merging_samples_of_a_window() -> None:
    a = LatencySample(1.0, Cohort.CANARY, "l", buckets=((10.0, 4.0), (20.0, 8.0), (math.inf, 8.0)))
    b = LatencySample(2.0, Cohort.CANARY, "l", buckets=((10.0, 0.0), (20.0, 8.0), (math.inf, 8.0)))
    raw = LatencySample(3.0, Cohort.CANARY, "l", values=(15.0, 15.0, 15.0, 15.0))
    merged = merge_latency([a, b, raw])
    assert merged is not None and merged.count == 20
    assert merged.quantile(0.2) == pytest.approx(10.0)  # 4 of 20 at or below 10
    assert merge_latency([]) is None
    assert latency_quantile([raw], 0.5) == 15.0
