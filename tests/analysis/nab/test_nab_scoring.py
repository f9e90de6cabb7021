"""NAB scoring on small hand-computed cases.

One file of 100 points at t = 0..99: probation is the first 15 points, one window [50, 59]
(10 points). Under the standard profile the null detector scores -1 and the perfect +1 raw.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from sentra_ml.analysis.nab import (
    PROFILES,
    count_detections,
    fixed_score,
    point_weights,
    probation_length,
    raw_score,
    scaled_sigmoid,
    sweep,
)

T = np.arange(100, dtype=np.float64)
WINDOW = [(50.0, 59.0)]
STANDARD = PROFILES["standard"]


def detections(*points: int) -> np.ndarray:
    flags = np.zeros(len(T), dtype=bool)
    flags[list(points)] = True
    return flags


def raw(*points: int, profile: str = "standard") -> float:
    p = PROFILES[profile]
    return raw_score(point_weights(T, WINDOW, p), detections(*points), p)


def test_probation_is_15_percent_capped_at_750() -> None:
    assert probation_length(100) == 15
    assert probation_length(4032) == 604
    assert probation_length(22695) == 750


def test_sigmoid_is_about_one_at_window_start_zero_at_its_end_and_minus_one_far_after() -> None:
    assert scaled_sigmoid(-1.0) == pytest.approx(0.98661, abs=1e-5)
    assert scaled_sigmoid(0.0) == 0.0
    assert scaled_sigmoid(3.5) == -1.0


def test_detection_at_the_window_start_earns_exactly_tp() -> None:
    assert raw(50) == pytest.approx(1.0)


def test_detection_at_the_last_point_of_the_window_earns_little() -> None:
    # position -1/10: (2 / (1 + e^-0.5) - 1) / (2 / (1 + e^-5) - 1) = 0.2448 / 0.9866
    assert raw(59) == pytest.approx(0.2482415, abs=1e-6)


def test_only_the_first_detection_in_a_window_counts() -> None:
    assert raw(50, 55, 59) == pytest.approx(1.0)
    assert raw(55, 59) == pytest.approx(raw(55))


def test_missed_window_costs_fn_and_a_detection_after_it_is_a_weighted_false_positive() -> None:
    # 10 points past the end of a window 10 wide: y = 10 / 9, 0.11 * sigmoid(y) = -0.10915
    assert raw() == -1.0
    assert raw(69) == pytest.approx(-1.0 - 0.1091528, abs=1e-6)
    assert raw(60) > raw(69)  # just past the window costs almost nothing


def test_detection_before_any_window_costs_the_full_fp_weight() -> None:
    assert raw(20) == pytest.approx(-1.11)
    assert raw(20, profile="reward_low_FP_rate") == pytest.approx(-1.22)
    assert raw(profile="reward_low_FN_rate") == -2.0


def test_probationary_detections_are_ignored() -> None:
    assert raw(3, 10, 14) == -1.0


def test_null_detector_scores_0_and_perfect_detector_100_in_every_profile() -> None:
    for profile in PROFILES.values():
        weights = point_weights(T, WINDOW, profile)
        null = sweep([(weights, np.zeros(len(T)))], profile)
        assert null.score == 0.0
        assert math.isinf(null.threshold)
        perfect = sweep([(weights, detections(50).astype(float))], profile)
        assert perfect.score == pytest.approx(100.0)
        assert perfect.threshold == 1.0


def test_threshold_is_chosen_to_maximise_the_score() -> None:
    scores = np.zeros(len(T))
    scores[20] = 0.9  # a false positive scored above the window's detection
    scores[50] = 0.8
    result = sweep([(point_weights(T, WINDOW, STANDARD), scores)], STANDARD)
    assert result.threshold == 0.8
    assert result.raw == pytest.approx(1.0 - 0.11)
    assert result.score == pytest.approx(100 * (0.89 + 1) / 2)


def test_sweep_agrees_with_fixed_detections_at_its_threshold() -> None:
    rng = np.random.default_rng(1)
    scores = rng.random(len(T))
    weights = point_weights(T, WINDOW, STANDARD)
    best = sweep([(weights, scores)], STANDARD)
    fixed = fixed_score([(weights, scores >= best.threshold)], STANDARD)
    assert fixed.raw == pytest.approx(best.raw)
    for threshold in np.linspace(0, 1, 21):
        assert raw_score(weights, scores >= threshold, STANDARD) <= best.raw + 1e-12


def test_window_metrics_count_windows_false_positives_and_delay() -> None:
    weights = point_weights(T, [(30.0, 39.0), (50.0, 59.0)], STANDARD)
    counts = count_detections(weights, T, detections(10, 20, 33, 35, 70))
    assert (counts.windows, counts.detected, counts.false_positives) == (2, 1, 2)
    assert counts.mean_delay_s == 3.0
    assert counts.precision == pytest.approx(1 / 3)
    assert counts.recall == 0.5
    assert counts.f1 == pytest.approx(0.4)
