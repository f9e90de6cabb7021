"""The learner's parts: the tail calibrator, the feature tracker and the feature builder."""

from __future__ import annotations

import math
import random

from sentra_ml.analysis.anomaly import FeatureTracker, TailCalibrator, interval_features

HOUR = 3600.0


def test_calibrated_p_values_are_uniform_on_the_learned_distribution() -> None:
    rng = random.Random(1)
    cal = TailCalibrator(window=2000)
    for _ in range(2000):
        cal.learn_one(abs(rng.gauss(0, 1)))
    ps = [cal.p_value(abs(rng.gauss(0, 1))) for _ in range(4000)]
    assert abs(sum(p <= 0.1 for p in ps) / 4000 - 0.1) < 0.02
    assert abs(sum(p <= 0.01 for p in ps) / 4000 - 0.01) < 0.006


def test_beyond_the_history_the_tail_keeps_ranking_scores() -> None:
    cal = TailCalibrator(window=1000)
    rng = random.Random(2)
    for _ in range(1000):
        cal.learn_one(abs(rng.gauss(0, 1)))
    assert 0.0 < cal.p_value(8.0) < cal.p_value(5.0) < 1 / 1000
    assert cal.p_value(0.0) > 0.99


def test_no_p_value_below_one_before_enough_history() -> None:
    cal = TailCalibrator(min_history=50)
    for v in range(49):
        cal.learn_one(float(v))
    assert cal.p_value(1e9) == 1.0


def test_window_forgets_old_scores() -> None:
    cal = TailCalibrator(window=100, min_history=10)
    for _ in range(100):
        cal.learn_one(100.0)
    for _ in range(100):
        cal.learn_one(1.0)
    assert cal.n == 100
    assert cal.p_value(50.0) < 0.05


def test_tracker_knows_the_usual_value_at_each_hour() -> None:
    tracker = FeatureTracker()
    for i in range(24 * 14):  # two weeks, hourly: high by day, low by night
        ts = i * HOUR
        tracker.learn_one(100.0 if 8 <= (i % 24) < 20 else 10.0, ts)
    noon, night = 24 * 14 * HOUR + 12 * HOUR, 24 * 14 * HOUR + 2 * HOUR
    _, _, at_noon, yesterday_noon, _ = tracker.surprise(100.0, noon)
    _, _, at_night, yesterday_night, _ = tracker.surprise(100.0, night)
    assert at_noon < 1 and yesterday_noon < 1
    assert at_night > 10 and yesterday_night > 10


def test_tracker_without_timestamps_uses_level_and_step_only() -> None:
    tracker = FeatureTracker()
    for i in range(200):
        tracker.learn_one(float(i % 2))
    level, step, seasonal, daily, _ = tracker.surprise(50.0)
    assert level > 10 and step > 10 and seasonal == daily == 0.0


def test_interval_features_skip_ratios_without_traffic() -> None:
    f = interval_features(
        requests=0.0,
        ratios={"errors": (0, 0)},
        latency={"latency_ms": {0.5: 20.0, 0.99: 200.0}},
        gauges={"cpu": 0.4},
    )
    assert f == {
        "traffic.log": 0.0,
        "latency_ms.p50.log": math.log1p(20.0),
        "latency_ms.p99.log": math.log1p(200.0),
        "cpu": 0.4,
    }
