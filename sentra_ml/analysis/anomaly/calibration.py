"""Turn a raw anomaly score into a tail probability on the learner's own recent history."""

from __future__ import annotations

import math
from bisect import bisect_left, insort
from collections import deque


class TailCalibrator:
    """Empirical tail probability of a raw score among the last `window` raw scores.

    Below the `tail` top share of the history the p-value is the empirical one; beyond it an
    exponential tail is fitted to the excesses over that quantile (peaks over threshold), so that
    a score far beyond anything seen gets a p-value far below `1 / window` rather than a tie.

    >>> cal = TailCalibrator(window=100, min_history=10)
    >>> for v in range(100):
    ...     cal.learn_one(float(v % 10))
    >>> round(cal.p_value(4.5), 2), cal.p_value(9.0) > cal.p_value(30.0) > 0.0
    (0.5, True)
    """

    def __init__(self, window: int = 2000, tail: float = 0.02, min_history: int = 50) -> None:
        self.window = window
        self.tail = tail
        self.min_history = min_history
        self._recent: deque[float] = deque()
        self._sorted: list[float] = []

    @property
    def n(self) -> int:
        """Raw scores held."""
        return len(self._sorted)

    def p_value(self, raw: float) -> float:
        """P(history >= raw), smoothed; 1.0 until `min_history` scores have been learned."""
        n = len(self._sorted)
        if n < self.min_history or math.isnan(raw):
            return 1.0
        above = n - bisect_left(self._sorted, raw)
        k = max(5, int(self.tail * n))
        if above >= k:
            return (above + 1) / (n + 1)
        top = self._sorted[n - k :]
        u = top[0]
        excess = sum(top) / k - u
        if excess <= 0.0:  # a flat tail: anything beyond it is as rare as the window allows
            return (above + 1) / (n + 1) if raw <= u else 0.5 / (n + 1)
        return k / (n + 1) * math.exp(-max(raw - u, 0.0) / excess)

    def learn_one(self, raw: float) -> None:
        """Add a raw score to the history (the oldest one leaves once the window is full)."""
        if math.isnan(raw):
            return
        self._recent.append(raw)
        insort(self._sorted, raw)
        if len(self._recent) > self.window:
            old = self._recent.popleft()
            del self._sorted[bisect_left(self._sorted, old)]
