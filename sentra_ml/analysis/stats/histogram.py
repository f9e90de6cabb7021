"""Histograms of latency-like values: fixed upper bounds (Prometheus `le`) and counts per bucket."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]

# 1 % relative resolution from 1e-3 to 1e7 (any unit): fine enough that bucketing raw values
# changes no quantile by more than the resolution, small enough (~2,300 buckets) to sum quickly.
_LOG_EDGES: FloatArray = np.append(10.0 ** np.arange(-3.0, 7.0, math.log10(1.01)), math.inf)


class Histogram:
    """Counts of values per bucket `(edges[i-1], edges[i]]`; the last edge is +inf.

    >>> h = Histogram.log_spaced()
    >>> h.add_values(np.array([10.0, 20.0, 30.0, 40.0]))
    >>> round(h.quantile(0.5))  # within the 1 % bucket resolution
    20
    """

    def __init__(self, edges: Sequence[float] | FloatArray) -> None:
        self.edges: FloatArray = np.asarray(edges, dtype=np.float64)
        if self.edges.ndim != 1 or len(self.edges) == 0 or not math.isinf(self.edges[-1]):
            raise ValueError("histogram edges must be a 1-D increasing sequence ending in +inf")
        if np.any(np.diff(self.edges) <= 0):
            raise ValueError("histogram edges must increase strictly")
        self.counts: FloatArray = np.zeros(len(self.edges), dtype=np.float64)

    @classmethod
    def log_spaced(cls) -> Histogram:
        """A histogram with 1 % wide logarithmic buckets, for raw values."""
        return cls(_LOG_EDGES)

    @property
    def total(self) -> float:
        return float(self.counts.sum())

    def add_values(self, values: FloatArray) -> None:
        idx = np.searchsorted(self.edges, values, side="left")
        self.counts += np.bincount(idx, minlength=len(self.edges))[: len(self.edges)]

    def add_counts(self, counts: FloatArray) -> None:
        """Add per-bucket (not cumulative) counts on the same edges."""
        self.counts += counts

    def copy(self) -> Histogram:
        other = Histogram(self.edges)
        other.counts = self.counts.copy()
        return other

    def cdf_at(self, x: float | FloatArray) -> FloatArray:
        """Count of values <= x, linear within a bucket (the first bucket starts at 0)."""
        return cumulative_at(self.edges, np.cumsum(self.counts), x)

    def quantile(self, p: float) -> float:
        """The p-quantile, interpolated linearly within its bucket (nan when empty)."""
        return quantile_from_cumulative(self.edges, np.cumsum(self.counts), p)


def cumulative_at(edges: FloatArray, cumulative: FloatArray, x: float | FloatArray) -> FloatArray:
    """Interpolate a cumulative bucket count at `x`; beyond the last finite edge, everything."""
    finite = edges[:-1]
    lower = np.concatenate(([0.0], finite))
    cum = np.concatenate(([0.0], cumulative[:-1]))
    xs = np.atleast_1d(np.asarray(x, dtype=np.float64))
    if not len(finite):
        return np.where(xs > 0.0, cumulative[-1], 0.0).astype(np.float64)
    # the share of each bucket below x, then the counts: np.interp's slope, count / width,
    # overflows for huge counts in narrow buckets
    i = np.clip(np.searchsorted(lower, xs, side="right") - 1, 0, len(lower) - 2)
    width = lower[i + 1] - lower[i]
    share = np.clip(np.divide(xs - lower[i], width, out=np.zeros_like(xs), where=width > 0), 0, 1)
    out = cum[i] + share * (cum[i + 1] - cum[i])
    out = np.where(xs > finite[-1], cumulative[-1], out)
    return np.asarray(out, dtype=np.float64)


def quantile_from_cumulative(edges: FloatArray, cumulative: FloatArray, p: float) -> float:
    total = float(cumulative[-1]) if len(cumulative) else 0.0
    if total <= 0:
        return math.nan
    rank = p * total
    i = int(np.searchsorted(cumulative, rank, side="left"))
    if i >= len(edges) - 1:  # in the +Inf bucket: the best we can say is its lower bound
        return float(edges[-2]) if len(edges) > 1 else math.nan
    lo_edge = 0.0 if i == 0 else float(edges[i - 1])
    lo_count = 0.0 if i == 0 else float(cumulative[i - 1])
    width = float(cumulative[i]) - lo_count
    frac = 0.0 if width <= 0 else (rank - lo_count) / width
    return lo_edge + frac * (float(edges[i]) - lo_edge)


def bucket_counts(buckets: Sequence[tuple[float, float]]) -> tuple[FloatArray, FloatArray]:
    """Split Prometheus-style cumulative `(le, count)` pairs into edges and per-bucket counts."""
    edges = np.array([le for le, _ in buckets], dtype=np.float64)
    cumulative = np.array([c for _, c in buckets], dtype=np.float64)
    return edges, np.diff(cumulative, prepend=0.0)
