"""Forecast holds: a gauge whose canary/baseline ratio is heading past its tolerance keeps the
rollout from stepping up or promoting, even while its tests still say "within tolerance".

A slow leak passes tolerance only minutes after a rollout would have promoted; its cumulative
test lags behind its current value. The forecast is a straight line over the last WINDOW
intervals with the uncertainty of its fit (`LinearTrend`), extrapolated no further than REACH
times the time it covers (a new pod's warm-up ramp is no leak). A leak grows at a constant rate;
Holt's random-walk trend, tried first, made the 10-minute interval too wide and held only 47 %
of the simulator's leaks against 70 % now, at the same A/A cost (benchmarks/ablation.py).
Holding instead of rolling back spends no false-rollback budget: the anytime-valid tests still
make every rollback decision.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass

from sentra_ml.analysis.forecast import LinearTrend, Outlook
from sentra_ml.analysis.types.labels import Cohort, Direction, MetricKind
from sentra_ml.analysis.types.samples import GaugeSample, Sample
from sentra_ml.analysis.types.specs import RolloutSpec

P_HOLD = 0.8
MIN_INTERVALS = 15  # the trend of fewer points is noise
WINDOW = 60  # intervals the line is fitted on (2 min at 2-s evaluations)
REACH = 3.0  # a line is extrapolated at most this many times the time it was fitted on
STICKY_SECONDS = 30.0  # a hold outlives the forecast that raised it: trend estimates flicker
# a rollback on a forecast needs more than a hold: a line fitted on a full WINDOW, the canary
# already PREDICT_LEVEL of the way to its tolerance, and the breach forecast that surely for
# PREDICT_SUSTAIN evaluations in a row
PREDICT_LEVEL = 0.5
PREDICT_SUSTAIN = 10


@dataclass(frozen=True)
class Drift:
    metric: str
    outlook: Outlook
    level: float  # the smoothed canary/baseline - 1 now

    def reason(self, tolerance: float) -> str:
        when = self.outlook.seconds_to_breach
        eta = "now" if when == 0 else f"in ~{when / 60:.0f} min" if math.isfinite(when) else ""
        return (
            f"{self.metric}: canary {self.level:+.0%} vs baseline and rising, forecast past the "
            f"{tolerance:+.0%} tolerance {eta} (P {self.outlook.p_breach:.2f}): holding"
        ).replace("  ", " ")


class DriftWatch:
    """Per gauge metric (increase is bad), a straight-line trend of the canary/baseline ratio."""

    def __init__(self, spec: RolloutSpec) -> None:
        self.horizon = spec.forecast_horizon_seconds
        self.tolerance = {
            m.name: m.tolerance
            for m in spec.metrics
            if m.kind is MetricKind.GAUGE and m.direction is not Direction.DECREASE
        }
        self._models = {name: LinearTrend(WINDOW) for name in self.tolerance}
        self._pending: dict[str, dict[Cohort, list[float]]] = defaultdict(lambda: defaultdict(list))
        self._last_close: float | None = None
        self._held: dict[str, tuple[float, Drift]] = {}  # metric -> (hold until, why)
        self._latest: dict[str, Drift] = {}  # metric -> this evaluation's forecast
        self._sure: dict[str, int] = defaultdict(int)  # metric -> evaluations in a row surely

    def observe(self, sample: Sample) -> None:
        if isinstance(sample, GaugeSample) and sample.metric in self._models:
            self._pending[sample.metric][sample.cohort].append(sample.value)

    def close(self, now: float) -> None:
        if self._last_close is not None and now <= self._last_close:
            return  # the same interval again: its samples wait for the next close
        self._last_close = now
        for name, cohorts in self._pending.items():
            c, b = cohorts.get(Cohort.CANARY), cohorts.get(Cohort.BASELINE)
            if not (c and b):
                continue
            base = sum(b) / len(b)
            ratio = (sum(c) / len(c)) / base - 1.0 if base != 0 else math.inf
            if math.isfinite(ratio):  # a baseline next to 0 has no ratio to follow
                self._models[name].update(now, ratio)
        self._pending.clear()

    def drifting(self) -> list[Drift]:
        """The metrics forecast past their tolerance within the horizon, surely enough to hold
        (or so forecast less than STICKY_SECONDS ago)."""
        if self.horizon <= 0 or self._last_close is None:
            return []
        now = self._last_close
        self._latest = {}
        for name, model in self._models.items():
            if model.n < MIN_INTERVALS:
                continue
            ahead = model.outlook(self.tolerance[name], min(self.horizon, REACH * model.span))
            if math.isfinite(ahead.seconds_to_breach):
                self._latest[name] = Drift(name, ahead, model.level)
                if ahead.p_breach >= P_HOLD:
                    self._held[name] = (now + STICKY_SECONDS, self._latest[name])
        return [drift for until, drift in self._held.values() if until > now]

    def forecasts(self) -> dict[str, tuple[float, Outlook]]:
        """metric -> (seconds ahead, outlook) of each trend fitted on enough intervals to
        forecast, as the holds see it (for charts; it decides nothing)."""
        out = {}
        for name, model in self._models.items():
            if self.horizon > 0 and model.n >= MIN_INTERVALS:
                ahead = min(self.horizon, REACH * model.span)
                out[name] = (ahead, model.outlook(self.tolerance[name], ahead))
        return out

    def breaching(self, p: float) -> list[Drift]:
        """The metrics to roll back for (call once per evaluation, after `drifting`): forecast
        past the tolerance within the horizon with probability >= `p` for PREDICT_SUSTAIN
        evaluations in a row, and already past PREDICT_LEVEL of the tolerance."""
        out = []
        for name in self._models:
            d = self._latest.get(name)
            sure = (
                d is not None
                and d.outlook.p_breach >= p
                and self._models[name].n >= WINDOW
                and d.level >= PREDICT_LEVEL * self.tolerance[name]
            )
            self._sure[name] = self._sure[name] + 1 if sure else 0
            if self._sure[name] >= PREDICT_SUSTAIN and d is not None:
                out.append(d)
        return out
