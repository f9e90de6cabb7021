"""NAB scoring (Lavin & Ahmad 2015), reimplemented from its published description.

Rules: the first 15 % of a file (at most 750 points) is a probationary period and is not
scored. A detection inside a labelled window earns `tp * sigmoid(position)`, scaled so that a
detection at the window's first point earns exactly `tp`; only the earliest detection in a window
counts. A window without detection costs `fn`. A detection outside every window costs `fp` times
a sigmoid of its distance past the previous window's end (in window lengths), and the full `fp`
before the first window. Scores are summed over a corpus and normalised so that the null
detector (never detects) scores 0 and the perfect one (detects each window at its start) 100.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from sentra_ml.analysis.nab.profiles import CostProfile

PROBATION_FRACTION = 0.15
OUTSIDE = -1  # window id of a point outside every window
PROBATION = -2  # window id of a point that is not scored

Windows = Sequence[tuple[float, float]]
FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


def probation_length(n: int, fraction: float = PROBATION_FRACTION) -> int:
    """Points at the start of a file of `n` points that are not scored (NAB caps it at 750)."""
    return int(min(math.floor(fraction * n), fraction * 5000))


def scaled_sigmoid(y: float) -> float:
    """NAB's `2 / (1 + e^{5y}) - 1`: ~+1 at y=-1 (window start), 0 at y=0, -> -1 far past it."""
    if y > 3.0:
        return -1.0
    return 2.0 / (1.0 + math.exp(5.0 * y)) - 1.0


@dataclass(frozen=True)
class PointWeights:
    """What a detection at each point of one file is worth under one profile."""

    window: IntArray  # window index, OUTSIDE or PROBATION
    value: FloatArray  # weighted score of a detection there (0 where not scored)
    n_windows: int  # windows holding at least one scored point


def point_weights(timestamps: FloatArray, windows: Windows, profile: CostProfile) -> PointWeights:
    """Weight every point of a file; `windows` are inclusive (start, end) times.

    A window spans from the first to the last row whose time falls inside it.
    """
    n = len(timestamps)
    window = np.full(n, OUTSIDE, dtype=np.int64)
    value = np.zeros(n, dtype=np.float64)
    bounds: list[tuple[int, int]] = []
    for start, end in sorted(windows):
        # a mask, not a binary search: real files have clocks that step back (NAB's does too)
        inside = np.flatnonzero((timestamps >= start) & (timestamps <= end))
        if len(inside):
            bounds.append((int(inside[0]), int(inside[-1])))
    probation = probation_length(n)
    max_tp = scaled_sigmoid(-1.0)
    n_windows = 0
    prev: tuple[int, int] | None = None
    next_window = 0
    i = 0
    while i < n:
        if next_window < len(bounds) and i == bounds[next_window][0]:
            lo, hi = bounds[next_window]
            width = hi - lo + 1
            scored = False
            for j in range(lo, hi + 1):
                if j < probation:
                    window[j] = PROBATION
                    continue
                scored = True
                window[j] = n_windows
                value[j] = profile.tp * scaled_sigmoid(-(hi - j + 1) / width) / max_tp
            n_windows += int(scored)
            prev = (lo, hi)
            next_window += 1
            i = hi + 1
            continue
        if i < probation:
            window[i] = PROBATION
        elif prev is None:
            value[i] = -profile.fp
        else:
            lo, hi = prev
            past = abs(i - hi) / max(hi - lo, 1)
            value[i] = profile.fp * scaled_sigmoid(past)
        i += 1
    return PointWeights(window, value, n_windows)


def raw_score(weights: PointWeights, detected: NDArray[np.bool_], profile: CostProfile) -> float:
    """NAB's raw score of one file for a fixed set of detections."""
    total = 0.0
    best: dict[int, float] = {}
    for i in np.flatnonzero(detected):
        w = int(weights.window[i])
        if w == PROBATION:
            continue
        if w == OUTSIDE:
            total += float(weights.value[i])
        elif w not in best:  # the earliest detection has the largest value: it alone counts
            best[w] = float(weights.value[i])
    total += sum(best.values())
    return total - profile.fn * (weights.n_windows - len(best))


@dataclass(frozen=True)
class Sweep:
    """A corpus scored at its best threshold, with the raw scores that normalise it."""

    profile: str
    threshold: float  # detections are scores >= threshold (inf: the null detector)
    raw: float
    null: float
    perfect: float

    @property
    def score(self) -> float:
        """The normalised NAB score: 0 = null detector, 100 = perfect detector."""
        span = self.perfect - self.null
        return 100.0 * (self.raw - self.null) / span if span > 0 else 0.0


def sweep(files: Sequence[tuple[PointWeights, FloatArray]], profile: CostProfile) -> Sweep:
    """Choose the one threshold over all files' scores that maximises the summed raw score."""
    keys: list[FloatArray] = []
    kinds: list[IntArray] = []
    values: list[FloatArray] = []
    offset = 0
    total_windows = 0
    for weights, scores in files:
        scored = weights.window != PROBATION
        keys.append(np.asarray(scores, dtype=np.float64)[scored])
        w = weights.window[scored]
        kinds.append(np.where(w >= 0, w + offset, OUTSIDE))
        values.append(weights.value[scored])
        offset += weights.n_windows
        total_windows += weights.n_windows
    score = np.concatenate(keys) if keys else np.zeros(0)
    kind = np.concatenate(kinds) if kinds else np.zeros(0, dtype=np.int64)
    value = np.concatenate(values) if values else np.zeros(0)
    null = -profile.fn * total_windows
    perfect = profile.tp * total_windows
    order = np.argsort(-score, kind="stable")
    best_raw, best_threshold = null, math.inf
    total = null
    best_in_window: dict[int, float] = {}
    n = len(order)
    k = 0
    while k < n:  # thresholds from high to low: each step adds every point of one score
        level = score[order[k]]
        while k < n and score[order[k]] == level:
            i = order[k]
            w, v = int(kind[i]), float(value[i])
            if w == OUTSIDE:
                total += v
            elif w not in best_in_window:
                best_in_window[w] = v
                total += profile.fn + v
            elif v > best_in_window[w]:
                total += v - best_in_window[w]
                best_in_window[w] = v
            k += 1
        if total > best_raw + 1e-12:
            best_raw, best_threshold = total, float(level)
    return Sweep(profile.name, best_threshold, best_raw, null, perfect)


def fixed_score(
    files: Sequence[tuple[PointWeights, NDArray[np.bool_]]], profile: CostProfile
) -> Sweep:
    """The corpus score of fixed detections (e.g. a detector's own flags), normalised as NAB."""
    raw = sum(raw_score(weights, detected, profile) for weights, detected in files)
    windows = sum(weights.n_windows for weights, _ in files)
    return Sweep(profile.name, math.nan, raw, -profile.fn * windows, profile.tp * windows)
