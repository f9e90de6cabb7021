"""Error-budget burn rates and Google's multi-window, multi-burn-rate alert (SRE Workbook,
ch. 5): page when both the long and the short window burn faster than the rate."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass


def burn_rate(error_ratio: float, slo_target: float) -> float:
    """How many times faster than allowed the budget burns (1 = exactly on budget).

    >>> round(burn_rate(0.01, 0.999), 6)
    10.0
    """
    budget = 1.0 - slo_target
    if not 0 < budget < 1:
        raise ValueError(f"slo_target: must be in (0, 1), got {slo_target}")
    return error_ratio / budget


@dataclass(frozen=True)
class BurnWindow:
    long_seconds: float
    short_seconds: float
    rate: float


# the workbook's page and ticket conditions for a 30-day SLO
PAGE_1H = BurnWindow(3600.0, 300.0, 14.4)
PAGE_6H = BurnWindow(6 * 3600.0, 1800.0, 6.0)


class MultiWindowBurnRate:
    """Streams (ts, total, failed) counts; `firing` when any window pair burns above its rate.
    A window reaches back at most to the first observation (a young series uses what it has)."""

    def __init__(
        self, slo_target: float, windows: tuple[BurnWindow, ...] = (PAGE_1H, PAGE_6H)
    ) -> None:
        burn_rate(0.0, slo_target)  # validates the target
        self.slo_target = slo_target
        self.windows = windows
        self._longest = max(w.long_seconds for w in windows)
        self._points: deque[tuple[float, float, float]] = deque()

    def update(self, ts: float, total: float, failed: float) -> None:
        self._points.append((ts, total, failed))
        while self._points and self._points[0][0] < ts - self._longest:
            self._points.popleft()

    def burn(self, seconds: float) -> float:
        """The burn rate over the last `seconds` (0 without traffic)."""
        if not self._points:
            return 0.0
        since = self._points[-1][0] - seconds
        total = failed = 0.0
        for ts, n, k in reversed(self._points):
            if ts <= since:
                break
            total += n
            failed += k
        return burn_rate(failed / total, self.slo_target) if total > 0 else 0.0

    @property
    def firing(self) -> bool:
        return any(
            self.burn(w.long_seconds) > w.rate and self.burn(w.short_seconds) > w.rate
            for w in self.windows
        )
