"""Cross-validation across categories: choices are made without the held-out category."""

from __future__ import annotations

import numpy as np

from sentra_ml.analysis.nab import PROFILES, category, cross_validate, point_weights

T = np.arange(200, dtype=np.float64)
STANDARD = PROFILES["standard"]


def at(*points: int, level: float = 1.0) -> np.ndarray:
    out = np.zeros(len(T))
    out[list(points)] = level
    return out


def test_category_is_the_folder_of_a_nab_file_name() -> None:
    assert category("realKnownCause/nyc_taxi.csv") == "realKnownCause"
    assert category("flat.csv") == ""


def test_the_held_out_category_is_scored_at_the_threshold_chosen_on_the_others() -> None:
    weights = {
        "a/1.csv": point_weights(T, [(100.0, 119.0)], STANDARD),
        "b/1.csv": point_weights(T, [(100.0, 119.0)], STANDARD),
        "c/1.csv": point_weights(T, [], STANDARD),
    }
    # in a and b the window's point scores 0.9; c (no window) has a false alarm at 0.95 that
    # only the fold holding c out can ignore
    scores = {
        "a/1.csv": at(105, level=0.9),
        "b/1.csv": at(105, level=0.9),
        "c/1.csv": at(150, level=0.95),
    }
    folds = {f.held_out: f for f in cross_validate(weights, {"one": scores}, STANDARD)}
    assert folds["c"].threshold == 0.9  # chosen on a and b
    assert folds["c"].false_positives == 1 and folds["c"].windows == 0
    assert folds["a"].detected == 1 and folds["a"].false_positives == 0
    assert folds["a"].test.score > 0


def test_the_candidate_is_chosen_on_the_training_categories_only() -> None:
    weights = {f"{c}/1.csv": point_weights(T, [(100.0, 119.0)], STANDARD) for c in "ab"}
    early = {"a/1.csv": at(102), "b/1.csv": at(102)}
    late_in_a = {"a/1.csv": at(60), "b/1.csv": at(102)}  # a false alarm in a, a hit in b
    folds = cross_validate(weights, {"early": early, "late_in_a": late_in_a}, STANDARD)
    chosen = {f.held_out: f.candidate for f in folds}
    assert chosen["b"] == "early"  # only a decides: late_in_a misses there
    assert chosen["a"] == "early"  # b cannot tell them apart: the first candidate stays
