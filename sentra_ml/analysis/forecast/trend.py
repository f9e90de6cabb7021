"""A straight-line trend over a sliding window, with the uncertainty of its fitted parameters.

A leak grows at a constant rate. Holt's trend is a random walk, so its 10-minute prediction
interval is wide enough to hide a leak that a least-squares line over the last two minutes
already shows beyond doubt. Here the line's own standard errors (from the residuals, widened
for their lag-1 autocorrelation) say how surely the *level* passes an objective by the horizon.
"""

from __future__ import annotations

import math
from collections import deque
from itertools import pairwise

from scipy.stats import norm

from sentra_ml.analysis.forecast.breach import Outlook

MAX_RHO = 0.9  # beyond this the residuals are a trend of their own; the widening is capped


class LinearTrend:
    """Least squares of y on time over the last `window` points (times in seconds, rising)."""

    def __init__(self, window: int = 60) -> None:
        if window < 3:
            raise ValueError(f"window: need at least 3 points, got {window}")
        self._points: deque[tuple[float, float]] = deque(maxlen=window)

    @property
    def n(self) -> int:
        return len(self._points)

    @property
    def span(self) -> float:
        """Seconds from the oldest point in the window to the newest."""
        return self._points[-1][0] - self._points[0][0] if self._points else 0.0

    @property
    def level(self) -> float:
        """The fitted line's value at the newest point (nan before it can be fitted)."""
        fitted = self.fit()
        return math.nan if fitted is None else fitted[0]

    def update(self, t: float, y: float) -> None:
        if self._points and t <= self._points[-1][0]:
            raise ValueError(f"t: {t} is not after the last point {self._points[-1][0]}")
        self._points.append((t, y))

    def fit(self) -> tuple[float, float, float, float, float] | None:
        """(level now, slope per s, mean time, Sxx, widened residual variance), or None
        while fewer than 3 points or no spread in time."""
        if len(self._points) < 3:
            return None
        now = self._points[-1][0]
        xs = [t - now for t, _ in self._points]
        ys = [y for _, y in self._points]
        n = len(xs)
        mx, my = sum(xs) / n, sum(ys) / n
        sxx = sum((x - mx) ** 2 for x in xs)
        if sxx <= 0:
            return None
        slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sxx
        level = my - slope * mx
        residuals = [y - (level + slope * x) for x, y in zip(xs, ys, strict=True)]
        s2 = sum(r * r for r in residuals) / max(n - 2, 1)
        lagged = sum(a * b for a, b in pairwise(residuals))
        rho = lagged / (s2 * (n - 2)) if s2 > 0 else 0.0
        rho = min(max(rho, 0.0), MAX_RHO)
        return level, slope, mx, sxx, s2 * (1 + rho) / (1 - rho)

    def outlook(self, objective: float, horizon_seconds: float) -> Outlook:
        """Where an increase-is-bad level stands against `objective` within the horizon:
        `p_breach` is the probability that the fitted line is beyond it at the horizon."""
        fitted = self.fit()
        if fitted is None:
            return Outlook(math.inf, 0.0, math.nan, math.nan)
        level, slope, mx, sxx, s2 = fitted
        mean = level + slope * horizon_seconds
        sd = math.sqrt(max(s2 * (1 / self.n + (horizon_seconds - mx) ** 2 / sxx), 1e-300))
        if level >= objective:
            first = 0.0
        elif slope > 0 and (objective - level) / slope <= horizon_seconds:
            first = (objective - level) / slope
        else:
            first = math.inf
        p = float(norm.sf(objective, loc=mean, scale=sd))
        return Outlook(first, p, mean, mean + 1.6449 * sd)
