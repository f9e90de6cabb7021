"""Online normal behaviour of one numeric feature: its level, its steps, its daily profile."""

from __future__ import annotations

import math
from array import array

# sigma / mean absolute deviation for a normal law: turns mean absolute deviations into z units
_MAD_TO_SIGMA = math.sqrt(math.pi / 2)
SECONDS_PER_DAY = 86400.0


def day_bucket(ts: float, buckets: int) -> int:
    """The time-of-day bucket (UTC) of a Unix time."""
    return int((ts % SECONDS_PER_DAY) / SECONDS_PER_DAY * buckets) % buckets


class FeatureTracker:
    """Exponentially weighted location and scale of a feature, of its steps and per time of day.

    `surprise` gives five z-like distances of a new value (0 while warming up): from the recent
    level, of the step from the previous value, from the usual value in this hour of the day,
    from the value one day earlier (for a clean daily cycle), and a change vote: river's `ADWIN`
    (defaults) on the standardised level residual saw its mean change at the last interval, in
    which case the vote is as large as the largest of the other four. Without timestamps the
    daily views are 0. Deviations are learned winsorised at `clip` z so that one spike does not
    blind the tracker.

    >>> t = FeatureTracker(alpha=0.1)
    >>> for i in range(200):
    ...     t.learn_one(10.0 + (i % 2))
    >>> level, step, _, _, _ = t.surprise(10.5)
    >>> level < 2 and step < 2, t.surprise(30.0)[0] > 10
    (True, True)
    """

    def __init__(
        self,
        alpha: float = 0.01,
        season_alpha: float = 0.1,
        buckets: int = 24,
        warmup: int = 10,
        clip: float = 6.0,
    ) -> None:
        self.alpha = alpha
        self.season_alpha = season_alpha
        self.buckets = buckets
        self.warmup = warmup
        self.clip = clip
        self.n = 0
        self.prev = math.nan
        self.last_ts = math.nan
        self.interval = 0.0  # mean seconds between samples
        self.mean = 0.0
        self.dev = 0.0  # mean absolute deviation around `mean`
        self.step_dev = 0.0  # mean absolute step
        self.magnitude = 0.0  # mean |x|: a floor for scales of near-constant features
        # per time-of-day bucket: [mean, mean absolute deviation, visits]
        self.season: list[list[float]] = [[0.0, 0.0, 0.0] for _ in range(buckets)]
        # times and values back to one day ago, from index `day_start` (compact float arrays:
        # a day at 1-minute intervals is 23 kB instead of ~160 kB of tuples)
        self.day_ts = array("d")
        self.day_x = array("d")
        self.day_start = 0
        self.day_dev = 0.0  # mean absolute change from the same time yesterday
        self.day_n = 0
        # a standardised input makes ADWIN's defaults mean the same for every feature's units
        # river loads on first use: its drift package pulls in its datasets (~1.5 s), which
        # every `sentra` command would otherwise pay
        from river.drift import ADWIN

        self.change = ADWIN()
        self.changed = False  # ADWIN detected a change when it learned the last value

    def __getstate__(self) -> dict[str, object]:
        """Pickle only the last day of values (the arrays hold up to twice that in memory)."""
        state = dict(self.__dict__)
        state["day_ts"] = self.day_ts[self.day_start :]
        state["day_x"] = self.day_x[self.day_start :]
        state["day_start"] = 0
        return state

    def _scale(self, dev: float) -> float:
        return _MAD_TO_SIGMA * dev + 1e-9 + 1e-6 * self.magnitude

    def _yesterday(self, ts: float) -> float:
        """The value learned closest to one day before `ts` (within one interval), else NaN."""
        target = ts - SECONDS_PER_DAY
        best, value = math.inf, math.nan
        for i in range(self.day_start, len(self.day_ts)):  # starts just before `target`
            gap = abs(self.day_ts[i] - target)
            if gap > best:
                break
            best, value = gap, self.day_x[i]
        return value if best <= max(self.interval, 1.0) * 0.5 + 1e-9 else math.nan

    def surprise(
        self, x: float, ts: float | None = None
    ) -> tuple[float, float, float, float, float]:
        """(level, step, time-of-day, yesterday, change) distances of `x`, in z units."""
        if self.n < self.warmup:
            return 0.0, 0.0, 0.0, 0.0, 0.0
        level = abs(x - self.mean) / self._scale(self.dev)
        step = abs(x - self.prev) / self._scale(self.step_dev)
        seasonal = daily = 0.0
        if ts is not None:
            mean, dev, visits = self.season[day_bucket(ts, self.buckets)]
            if visits >= 3:
                seasonal = abs(x - mean) / self._scale(dev)
            if self.day_n >= self.warmup:
                then = self._yesterday(ts)
                if not math.isnan(then):
                    daily = abs(x - then) / self._scale(self.day_dev)
        change = max(level, step, seasonal, daily) if self.changed else 0.0
        return level, step, seasonal, daily, change

    def learn_one(self, x: float, ts: float | None = None) -> None:
        """Update every statistic with `x` (after it has been scored)."""
        self.n += 1
        if self.n == 1:
            self.mean, self.prev, self.magnitude = x, x, abs(x)
            if ts is not None:
                self._learn_time(x, ts)
            return
        if self.n > self.warmup:
            self.change.update((x - self.mean) / self._scale(self.dev))
            self.changed = self.change.drift_detected
        a = max(self.alpha, 1.0 / self.n)  # plain averages until the memory is full
        self.magnitude += a * (abs(x) - self.magnitude)
        self.dev += a * (self._winsorise(abs(x - self.mean), self.dev) - self.dev)
        self.mean += a * (x - self.mean)
        self.step_dev += a * (self._winsorise(abs(x - self.prev), self.step_dev) - self.step_dev)
        self.prev = x
        if ts is not None:
            self._learn_time(x, ts)

    def _learn_time(self, x: float, ts: float) -> None:
        if math.isfinite(self.last_ts) and ts > self.last_ts:
            a = max(self.alpha, 1.0 / self.n)
            self.interval += a * (ts - self.last_ts - self.interval)
        self.last_ts = ts
        then = self._yesterday(ts)
        if not math.isnan(then):
            self.day_n += 1
            a = max(self.alpha, 1.0 / self.day_n)
            self.day_dev += a * (self._winsorise(abs(x - then), self.day_dev) - self.day_dev)
        self.day_ts.append(ts)
        self.day_x.append(x)
        end = len(self.day_ts)
        while self.day_start + 1 < end and self.day_ts[self.day_start + 1] <= ts - SECONDS_PER_DAY:
            self.day_start += 1  # keep one sample at or before a day ago
        if self.day_start > 1024 and self.day_start * 2 > end:
            del self.day_ts[: self.day_start]
            del self.day_x[: self.day_start]
            self.day_start = 0
        cell = self.season[day_bucket(ts, self.buckets)]
        cell[2] += 1
        if cell[2] == 1:
            cell[0] = x
            return
        # `season_alpha` is per day: a bucket is visited many times a day at short intervals
        visits_per_day = max(1.0, SECONDS_PER_DAY / self.buckets / max(self.interval, 1e-9))
        b = max(self.season_alpha / visits_per_day, 1.0 / cell[2])
        cell[1] += b * (self._winsorise(abs(x - cell[0]), cell[1]) - cell[1])
        cell[0] += b * (x - cell[0])

    def _winsorise(self, deviation: float, dev: float) -> float:
        if self.n <= self.warmup or dev <= 0.0:
            return deviation
        return min(deviation, self.clip * dev)
