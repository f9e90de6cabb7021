"""Has the baseline itself left its normal? Then the environment, not the release, is moving.

Both detectors compare the baseline's last `window` seconds with its own preceding `reference`
seconds and demand a large z-score (the rollout pauses on it, it never rolls back, so a rare false
alarm only costs time) and a change beyond the metric's tolerance.
"""

from __future__ import annotations

import math
from collections import deque

WINDOW_SECONDS = 30.0
REFERENCE_SECONDS = 600.0
Z_SHIFT = 5.0


class _History:
    def __init__(self, window: float, reference: float) -> None:
        self.window = window
        self.reference = reference
        self.points: deque[tuple[float, float, float]] = deque()

    def add(self, ts: float, a: float, b: float) -> None:
        self.points.append((ts, a, b))
        while self.points and self.points[0][0] < ts - self.window - self.reference:
            self.points.popleft()

    def split(self, now: float) -> tuple[list[tuple[float, float]], list[tuple[float, float]]]:
        cut = now - self.window
        recent = [(a, b) for ts, a, b in self.points if ts > cut]
        ref = [(a, b) for ts, a, b in self.points if ts <= cut]
        return recent, ref


def _describe(side: int, relative: float, z: float) -> str:
    verb = "rose" if side > 0 else "fell"
    return f"{verb} {abs(relative) * 100:.0f} % against its own last minutes (z={z:.1f})"


class ProportionShift:
    """Shift of the baseline's event ratio (failed / total), by a two-proportion z-test."""

    def __init__(
        self, window: float = WINDOW_SECONDS, reference: float = REFERENCE_SECONDS
    ) -> None:
        self._history = _History(window, reference)

    def add(self, ts: float, failed: float, total: float) -> None:
        self._history.add(ts, failed, total)

    def shift(self, now: float, tolerance: float, side: int) -> str | None:
        recent, ref = self._history.split(now)
        f_r, n_r = sum(a for a, _ in recent), sum(b for _, b in recent)
        f_0, n_0 = sum(a for a, _ in ref), sum(b for _, b in ref)
        if n_r < 20 or n_0 < 100 or len(ref) < 5:
            return None
        p_r, p_0 = f_r / n_r, f_0 / n_0
        pooled = (f_r + f_0) / (n_r + n_0)
        se = math.sqrt(max(pooled * (1 - pooled), 1e-12) * (1 / n_r + 1 / n_0))
        z = side * (p_r - p_0) / se
        relative = (p_r - p_0) / p_0 if p_0 > 0 else math.inf
        if z > Z_SHIFT and side * relative > tolerance and abs(p_r - p_0) > 1e-3:
            return _describe(side, relative, z)
        return None


class MeanShift:
    """Shift of a per-interval baseline statistic (a quantile, a gauge's mean)."""

    def __init__(
        self, window: float = WINDOW_SECONDS, reference: float = REFERENCE_SECONDS
    ) -> None:
        self._history = _History(window, reference)

    def add(self, ts: float, value: float) -> None:
        if math.isfinite(value):
            self._history.add(ts, value, 1.0)

    def shift(self, now: float, tolerance: float, side: int) -> str | None:
        recent, ref = self._history.split(now)
        if len(recent) < 3 or len(ref) < 10:
            return None
        r = [a for a, _ in recent]
        q = [a for a, _ in ref]
        mean_r, mean_0 = sum(r) / len(r), sum(q) / len(q)
        sd = math.sqrt(sum((v - mean_0) ** 2 for v in q) / (len(q) - 1))
        se = max(sd, 1e-9 * max(abs(mean_0), 1.0)) * math.sqrt(1 / len(r) + 1 / len(q))
        z = side * (mean_r - mean_0) / se
        relative = (mean_r - mean_0) / abs(mean_0) if mean_0 != 0 else math.inf
        if z > Z_SHIFT and side * relative > tolerance:
            return _describe(side, relative, z)
        return None
