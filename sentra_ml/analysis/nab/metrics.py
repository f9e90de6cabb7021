"""Window-level precision, recall, F1 and detection delay of fixed detections."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from sentra_ml.analysis.nab.scoring import OUTSIDE, PROBATION, PointWeights


@dataclass(frozen=True)
class DetectionCounts:
    """A window is detected if any detection falls in it; each detection outside is an FP."""

    windows: int = 0
    detected: int = 0
    false_positives: int = 0
    delay_sum_s: float = 0.0

    @property
    def precision(self) -> float:
        """Detected windows over detected windows plus false detections (NaN if none)."""
        flagged = self.detected + self.false_positives
        return self.detected / flagged if flagged else math.nan

    @property
    def recall(self) -> float:
        """Share of windows detected (NaN if there are none)."""
        return self.detected / self.windows if self.windows else math.nan

    @property
    def f1(self) -> float:
        """Harmonic mean of precision and recall (NaN if either is undefined)."""
        p, r = self.precision, self.recall
        if math.isnan(p) or math.isnan(r):
            return math.nan
        return 2 * p * r / (p + r) if p + r > 0 else 0.0

    @property
    def mean_delay_s(self) -> float:
        """Mean time from a window's start to its first detection (NaN if none detected)."""
        return self.delay_sum_s / self.detected if self.detected else float("nan")

    def __add__(self, other: DetectionCounts) -> DetectionCounts:
        return DetectionCounts(
            self.windows + other.windows,
            self.detected + other.detected,
            self.false_positives + other.false_positives,
            self.delay_sum_s + other.delay_sum_s,
        )


def count_detections(
    weights: PointWeights, timestamps: NDArray[np.float64], detected: NDArray[np.bool_]
) -> DetectionCounts:
    """Count one file's detections (scored points only) against its windows."""
    first: dict[int, int] = {}
    starts: dict[int, int] = {}
    for j, w in enumerate(weights.window):
        if w >= 0 and int(w) not in starts:
            starts[int(w)] = j
    fp = 0
    for i in np.flatnonzero(detected):
        w = int(weights.window[i])
        if w == OUTSIDE:
            fp += 1
        elif w != PROBATION and w not in first:
            first[w] = int(i)
    delay = sum(float(timestamps[i] - timestamps[starts[w]]) for w, i in first.items())
    return DetectionCounts(weights.n_windows, len(first), fp, delay)


def total(counts: Iterable[DetectionCounts]) -> DetectionCounts:
    """Sum of per-file counts."""
    out = DetectionCounts()
    for c in counts:
        out = out + c
    return out
