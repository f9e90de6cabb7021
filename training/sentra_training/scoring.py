"""Offline anomaly scoring: a series streamed through one online learner, as live."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from sentra_ml.analysis.anomaly import LearnerConfig, ServiceLearner
from sentra_training.series import (
    TIMESTAMP,
    BoolArray,
    FloatArray,
    Progress,
    Series,
    atomic_writer,
    live,
    read_series,
)


def score_series(
    series: Series, config: LearnerConfig | None = None, on_progress: Progress | None = None
) -> tuple[FloatArray, BoolArray]:
    """Stream every row through one learner as live (scored, then learned)."""
    n = len(series)
    scores = np.empty(n, dtype=np.float64)
    flags = np.zeros(n, dtype=bool)
    for i, detection in enumerate(live(series, ServiceLearner(config), on_progress)):
        scores[i], flags[i] = detection.score, detection.flag
    return scores, flags


def write_scores(path: Path, stamps: Sequence[str], scores: FloatArray, flags: BoolArray) -> None:
    """Write `timestamp,score,flag` rows, all or nothing."""
    with atomic_writer(path) as handle:
        out = csv.writer(handle)
        out.writerow([TIMESTAMP, "score", "flag"])
        for stamp, score, flag in zip(stamps, scores.tolist(), flags.tolist(), strict=True):
            out.writerow([stamp, f"{score:.12g}", int(flag)])


def score_file(
    source: Path,
    target: Path,
    config: LearnerConfig | None = None,
    on_progress: Progress | None = None,
) -> tuple[Series, FloatArray, BoolArray]:
    """Score a CSV series into a scores CSV; InputError if the input is unusable."""
    series = read_series(source)
    scores, flags = score_series(series, config, on_progress)
    write_scores(target, series.stamps, scores, flags)
    return series, scores, flags
