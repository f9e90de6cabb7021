"""Evidence for a ratio metric (failed / total per interval), e.g. the HTTP 5xx ratio.

The canary-versus-baseline test is the conditional odds-ratio test: each interval is a 2x2 table,
so a baseline whose error rate drifts with time or load cannot fake a regression. The tolerance
and the reported effect are on the odds ratio, which equals the ratio's relative change for the
small ratios (error rates) this is meant for.
"""

from __future__ import annotations

import math

from sentra_ml.analysis.evidence.base import Check, MetricAnalyzer, sides
from sentra_ml.analysis.evidence.environment import ProportionShift
from sentra_ml.analysis.evidence.words import effect_text, percent_change
from sentra_ml.analysis.stats import binomial_cs
from sentra_ml.analysis.stats.changepoint import BinomialDetector, OddsRatioDetector
from sentra_ml.analysis.stats.oddsratio import ConditionalOddsRatioTest
from sentra_ml.analysis.types.labels import Cohort, MetricKind
from sentra_ml.analysis.types.samples import RatioSample, Sample
from sentra_ml.analysis.types.specs import CHANGEPOINT_SECONDS, MetricSpec
from sentra_ml.analysis.types.verdict import Interval


class RatioAnalyzer(MetricAnalyzer):
    kind = MetricKind.RATIO

    def __init__(
        self,
        spec: MetricSpec,
        alpha: float,
        start_ts: float = 0.0,
        gate_alpha: float = 0.2,
        changepoint_seconds: float = CHANGEPOINT_SECONDS,
    ) -> None:
        super().__init__(spec, alpha, start_ts, gate_alpha, changepoint_seconds)
        # log odds-ratio nulls at the edge of tolerance, one per tested side
        self._nulls = {s: math.log(1 + s * spec.tolerance) for s in sides(spec.direction)}
        nulls = (0.0, *self._nulls.values())
        self._global = ConditionalOddsRatioTest(nulls=nulls)
        self._step = ConditionalOddsRatioTest(nulls=nulls)
        cp = changepoint_seconds
        self._detectors = (
            {s: OddsRatioDetector(self._global, null, s, cp) for s, null in self._nulls.items()}
            if cp > 0
            else {}
        )
        slo = spec.slo
        self._slo_detector = (
            BinomialDetector(slo.objective, cp)
            if slo is not None and cp > 0 and 0.0 < slo.objective < 1.0
            else None
        )
        self._pending = {Cohort.BASELINE: [0.0, 0.0], Cohort.CANARY: [0.0, 0.0]}
        self._cumulative = {Cohort.BASELINE: [0.0, 0.0], Cohort.CANARY: [0.0, 0.0]}
        self._baseline_shift = ProportionShift()

    def _observe(self, sample: Sample) -> None:
        if not isinstance(sample, RatioSample):
            raise self.wrong_kind(sample)
        for store in (self._pending, self._cumulative):
            store[sample.cohort][0] += sample.failed
            store[sample.cohort][1] += sample.total

    def close_interval(self, now: float) -> None:
        (x, n), (y, m) = self._pending[Cohort.CANARY], self._pending[Cohort.BASELINE]
        if m > 0:
            self._baseline_shift.add(now, y, m)
        if n <= 0 or m <= 0:
            if m > 0:  # baseline-only data feeds the shift detector, then waits no longer
                self._pending[Cohort.BASELINE] = [0.0, 0.0]
            return  # keep the canary's counts until the baseline's arrive
        loglik = self._global.update(x, n, y, m)
        for detector in self._detectors.values():
            detector.update(loglik, now)
        if self._slo_detector is not None:
            self._slo_detector.update(x, n, now)
        self._step.update(x, n, y, m)
        self._pending = {Cohort.BASELINE: [0.0, 0.0], Cohort.CANARY: [0.0, 0.0]}

    def start_step(self) -> None:
        self._step = ConditionalOddsRatioTest(nulls=self._step.nulls)

    def _rates(self) -> tuple[float, float]:
        (x, n), (y, m) = self._cumulative[Cohort.CANARY], self._cumulative[Cohort.BASELINE]
        return (x / n if n else math.nan, y / m if m else math.nan)

    @staticmethod
    def _relative(log_psi: float) -> float:
        """log odds ratio -> relative change of the odds (of the ratio itself, for small ratios)."""
        return math.expm1(log_psi) if log_psi < 700 else math.inf

    def checks(self) -> list[Check]:
        p_canary, p_base = self._rates()
        # each end at the regression tests' own level, so the interval agrees with them
        low, high = self._global.interval(2 * self.test_alpha)
        effect = Interval(
            estimate=self._relative(self._global.estimate()),
            low=self._relative(low),
            high=self._relative(high),
        )
        rates = f"{p_canary * 100:.2f} % vs {p_base * 100:.2f} % baseline"
        text = f"{effect_text('ratio', effect)} ({rates})"
        gate_low, gate_high = self._global.interval(2 * self.gate_alpha)
        out = []
        for side, null in self._nulls.items():
            if side in self._detectors:
                reg = self._detectors[side].log_e()
            elif side > 0:
                reg = self._global.log_e_above(null)
            else:
                reg = self._global.log_e_below(null)
            if side > 0:
                safe = self._step.log_e_below(null)
                harm = self._relative(gate_high)
            else:
                safe = self._step.log_e_above(null)
                harm = -self._relative(gate_low)
            label = "ratio" if len(self._nulls) == 1 else f"ratio{side:+d}"
            out.append(Check(label, reg, safe, self.threshold, effect, text, harm))
        slo = self.spec.slo
        if slo is not None:
            x, n = self._cumulative[Cohort.CANARY]
            if self._slo_detector is not None:
                reg = self._slo_detector.log_e()
            else:
                reg = binomial_cs.log_e_above(x, n, slo.objective) if n > 0 else 0.0
            safe = binomial_cs.log_e_below(x, n, slo.objective) if n > 0 else 0.0
            slo_text = (
                f"canary ratio {p_canary * 100:.2f} % against SLO {slo.objective * 100:.2f} %"
            )
            y, m = self._cumulative[Cohort.BASELINE]
            if m > 0 and y / m > slo.objective:
                reg = 0.0  # the baseline breaches too: not the release's fault
                slo_text += f" (baseline breaches it too, {percent_change(y / m - slo.objective)})"
            out.append(Check("slo", reg, safe, self.slo_threshold, None, slo_text, -math.inf))
        return out

    def baseline_shift(self, now: float) -> str | None:
        for side in self._nulls:
            found = self._baseline_shift.shift(now, self.spec.tolerance, side)
            if found:
                return f"error ratio {found}"
        return None
