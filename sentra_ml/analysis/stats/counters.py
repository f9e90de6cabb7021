"""Per-interval increments of cumulative counters, with Prometheus' counter-reset rule.

A Prometheus counter only ever grows while its process lives; when the process restarts it
starts again from 0. `rate()` and `increase()` therefore read any decrease between two
consecutive samples as a reset, and count the new value as the increment since the reset (the
part counted before the restart and not scraped is lost, and is not guessed). The same rule
applies to each `le` series of a histogram separately.

Reference: Prometheus, `promql/functions.go`, `extrapolatedRate` (the reset correction).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]


class CounterDeltas:
    """Turn the readings of one cumulative counter into per-interval increments.

    One instance per series. A reading below the previous one is a reset: the increment is then
    the new reading itself.

    >>> c = CounterDeltas()
    >>> [c.update(v) for v in (100.0, 130.0, 130.0, 12.0, 20.0)]
    [None, 30.0, 0.0, 12.0, 8.0]
    >>> c.resets
    1
    """

    def __init__(self) -> None:
        self.last: float | None = None
        self.resets = 0

    def update(self, value: float) -> float | None:
        """Take the next reading; return the increment since the last one (None at the first)."""
        value = float(value)
        if not math.isfinite(value) or value < 0:
            raise ValueError(f"a counter reading must be finite and >= 0, got {value}")
        previous, self.last = self.last, value
        if previous is None:
            return None
        if value < previous:
            self.resets += 1
            return value
        return value - previous

    def reset(self) -> None:
        """Forget the last reading (the next one starts a new series)."""
        self.last = None


def bucket_deltas(
    previous: Sequence[float] | FloatArray,
    current: Sequence[float] | FloatArray,
    monotonic: bool = True,
) -> FloatArray:
    """Increments of cumulative histogram bucket counters between two scrapes.

    Both arrays hold one reading per `le` series (cumulative across buckets, as Prometheus
    exposes them, the last one `+Inf`). Each series gets the counter-reset rule on its own. The
    result is cumulative across buckets too; `np.diff(result, prepend=0.0)` gives per-bucket
    counts. With `monotonic`, a result that decreases across buckets (possible only when a
    reset hit some series but not others, e.g. a scrape that raced a restart) is made
    non-decreasing by a running maximum, as `histogram_quantile` does.

    >>> bucket_deltas([5.0, 9.0, 10.0], [7.0, 12.0, 14.0]).tolist()
    [2.0, 3.0, 4.0]
    >>> bucket_deltas([5.0, 9.0, 10.0], [1.0, 2.0, 2.0]).tolist()  # the process restarted
    [1.0, 2.0, 2.0]
    """
    prev = np.asarray(previous, dtype=np.float64)
    cur = np.asarray(current, dtype=np.float64)
    if prev.shape != cur.shape or cur.ndim != 1:
        raise ValueError(f"bucket arrays must be 1-D of one length, got {prev.shape}, {cur.shape}")
    if not (np.all(np.isfinite(cur)) and np.all(np.isfinite(prev))):
        raise ValueError("bucket counters must be finite")
    if np.any(cur < 0) or np.any(prev < 0):
        raise ValueError("bucket counters must be >= 0")
    out = np.where(cur >= prev, cur - prev, cur)
    if monotonic:
        out = np.maximum.accumulate(out)
    return np.asarray(out, dtype=np.float64)


class HistogramDeltas:
    """Per-interval increments of one histogram's cumulative bucket counters (one per series).

    `update` takes the cumulative counts of all `le` buckets of one scrape and returns the
    increments since the previous scrape (see `bucket_deltas`), or None for the first scrape and
    whenever the number of buckets changes (a new layout starts a new series).

    >>> h = HistogramDeltas()
    >>> h.update([1.0, 3.0]) is None
    True
    >>> h.update([2.0, 5.0]).tolist()
    [1.0, 2.0]
    """

    def __init__(self, monotonic: bool = True) -> None:
        self.monotonic = monotonic
        self.last: FloatArray | None = None

    def update(self, cumulative: Sequence[float] | FloatArray) -> FloatArray | None:
        cur = np.array(cumulative, dtype=np.float64)
        previous, self.last = self.last, cur
        if previous is None or previous.shape != cur.shape:
            if cur.ndim != 1 or not np.all(np.isfinite(cur)) or np.any(cur < 0):
                self.last = None
                raise ValueError("bucket counters must be a 1-D array of finite values >= 0")
            return None
        try:
            return bucket_deltas(previous, cur, self.monotonic)
        except ValueError:
            self.last = previous
            raise
