"""Evidence for a gauge metric (CPU, memory, queue depth): one value per interval and instance.

Per interval, each cohort's reading is the mean over its instances. The tested increment is
`canary - (1 + tolerance) * baseline` (for an increase): its mean is <= 0 exactly when the canary
stays within tolerance. Load and time-of-day move both cohorts and cancel in the increment. The
self-normalized mixture test needs no variance, only conditionally symmetric increments.

Its regression test stays cumulative from the rollout's start (`changepoint_seconds` does not
apply): gauges are autocorrelated (cpu follows load averaged over a window), so their increments
are not conditionally symmetric given the past, and a test restarted at every interval
(`stats.changepoint.MeanDetector`) found runs of that noise: 8 of 40 held A/A runs at 1 req/s
were rolled back on cpu (benchmarks/onsets.py, measurement G), where the cumulative test, whose
positive and negative runs average out, rolled back none.
"""

from __future__ import annotations

import math
from collections import defaultdict

from sentra_ml.analysis.evidence.base import Check, MetricAnalyzer, sides
from sentra_ml.analysis.evidence.environment import MeanShift
from sentra_ml.analysis.evidence.words import effect_text, quantity
from sentra_ml.analysis.stats.meanshift import SelfNormalizedMeanTest
from sentra_ml.analysis.types.labels import Cohort, MetricKind
from sentra_ml.analysis.types.samples import GaugeSample, Sample
from sentra_ml.analysis.types.specs import CHANGEPOINT_SECONDS, MetricSpec
from sentra_ml.analysis.types.verdict import Interval


class GaugeAnalyzer(MetricAnalyzer):
    kind = MetricKind.GAUGE

    def __init__(
        self,
        spec: MetricSpec,
        alpha: float,
        start_ts: float = 0.0,
        gate_alpha: float = 0.2,
        changepoint_seconds: float = CHANGEPOINT_SECONDS,
    ) -> None:
        super().__init__(spec, alpha, start_ts, gate_alpha, changepoint_seconds)
        self._sides = sides(spec.direction)
        self._global = {s: SelfNormalizedMeanTest() for s in self._sides}
        self._step = {s: SelfNormalizedMeanTest() for s in self._sides}
        self._difference = SelfNormalizedMeanTest()  # canary - baseline, for the reported effect
        self._pending: dict[Cohort, dict[str, list[float]]] = {c: defaultdict(list) for c in Cohort}
        self._sums = {c: [0.0, 0] for c in Cohort}  # per-interval cohort means: sum, count
        self._shift = MeanShift()

    def _observe(self, sample: Sample) -> None:
        if not isinstance(sample, GaugeSample):
            raise self.wrong_kind(sample)
        self._pending[sample.cohort][sample.instance].append(sample.value)

    def _cohort_mean(self, cohort: Cohort) -> float | None:
        readings = self._pending[cohort]
        if not readings:
            return None
        # an instance that reported twice in one interval counts once, with its mean
        per_instance = [sum(v) / len(v) for v in readings.values()]
        return sum(per_instance) / len(per_instance)

    def close_interval(self, now: float) -> None:
        c, b = self._cohort_mean(Cohort.CANARY), self._cohort_mean(Cohort.BASELINE)
        if b is not None:
            self._shift.add(now, b)
        if c is None or b is None:
            if b is not None:
                self._pending[Cohort.BASELINE] = defaultdict(list)
            return
        tol = self.spec.tolerance
        for side in self._sides:
            d = c - (1 + tol) * b if side > 0 else (1 - tol) * b - c
            self._global[side].update(d)
            self._step[side].update(d)
        self._difference.update(c - b)
        for cohort, value in ((Cohort.CANARY, c), (Cohort.BASELINE, b)):
            self._sums[cohort][0] += value
            self._sums[cohort][1] += 1
        self._pending = {cohort: defaultdict(list) for cohort in Cohort}

    def start_step(self) -> None:
        self._step = {s: SelfNormalizedMeanTest() for s in self._sides}

    def checks(self) -> list[Check]:
        (sum_c, n_c), (sum_b, n_b) = self._sums[Cohort.CANARY], self._sums[Cohort.BASELINE]
        mean_c = sum_c / n_c if n_c else math.nan
        mean_b = sum_b / n_b if n_b else math.nan
        effect: Interval | None = None
        harm = {side: math.inf for side in self._sides}
        text = "not enough intervals yet"
        if n_b and mean_b != 0 and self._difference.n > 0:
            scale = abs(mean_b)
            low, high = self._difference.interval(2 * self.test_alpha)
            effect = Interval(self._difference.estimate() / scale, low / scale, high / scale)
            text = f"{effect_text('mean', effect)} ({quantity(mean_c)} vs {quantity(mean_b)})"
            gate_low, gate_high = self._difference.interval(2 * self.gate_alpha)
            harm = {1: gate_high / scale, -1: -gate_low / scale}
        out = []
        for side in self._sides:
            g, s = self._global[side], self._step[side]
            label = "mean" if len(self._sides) == 1 else f"mean{side:+d}"
            reg, safe = g.log_e_above(0.0), s.log_e_below(0.0)
            out.append(Check(label, reg, safe, self.threshold, effect, text, harm[side]))
        return out

    def baseline_shift(self, now: float) -> str | None:
        for side in self._sides:
            found = self._shift.shift(now, self.spec.tolerance, side)
            if found:
                return f"{self.spec.name} {found}"
        return None
