"""Evidence for a latency metric: per quantile, is the canary slower than tolerated?

Each interval, the canary's values are divided by `1 + tolerance` and pooled with the baseline's;
the pooled p-quantile is a threshold that does not depend on who is who, so under "the canary is
the baseline slowed by exactly the tolerance" the canary's share of exceedances is hypergeometric.
That 2x2 table (exceedances and trials per cohort) feeds the conditional odds-ratio test: a
stratified, distribution-free quantile test that is anytime-valid and robust to load swings.
With Prometheus buckets the canary's scaled counts are interpolated within buckets.
"""

from __future__ import annotations

import math

import numpy as np

from sentra_ml.analysis.evidence.base import Check, MetricAnalyzer, sides
from sentra_ml.analysis.evidence.environment import MeanShift
from sentra_ml.analysis.evidence.words import effect_text, quantity
from sentra_ml.analysis.stats import binomial_cs
from sentra_ml.analysis.stats.changepoint import BinomialDetector, OddsRatioDetector
from sentra_ml.analysis.stats.histogram import (
    FloatArray,
    Histogram,
    bucket_counts,
    cumulative_at,
    quantile_from_cumulative,
)
from sentra_ml.analysis.stats.oddsratio import ConditionalOddsRatioTest
from sentra_ml.analysis.types.errors import SampleError
from sentra_ml.analysis.types.labels import Cohort, MetricKind
from sentra_ml.analysis.types.samples import LatencySample, Sample
from sentra_ml.analysis.types.specs import CHANGEPOINT_SECONDS, MetricSpec
from sentra_ml.analysis.types.verdict import Interval

_Key = tuple[int, float]  # (side, quantile)


class LatencyAnalyzer(MetricAnalyzer):
    kind = MetricKind.LATENCY

    def __init__(
        self,
        spec: MetricSpec,
        alpha: float,
        start_ts: float = 0.0,
        gate_alpha: float = 0.2,
        changepoint_seconds: float = CHANGEPOINT_SECONDS,
    ) -> None:
        super().__init__(spec, alpha, start_ts, gate_alpha, changepoint_seconds)
        self._keys: list[_Key] = [(s, q) for s in sides(spec.direction) for q in spec.quantiles]
        self._global = {k: ConditionalOddsRatioTest() for k in self._keys}
        self._step = {k: ConditionalOddsRatioTest() for k in self._keys}
        cp = changepoint_seconds
        # every table is oriented so that "worse" is above: each side tests log psi > 0
        self._detectors = (
            {k: OddsRatioDetector(self._global[k], 0.0, +1, cp) for k in self._keys}
            if cp > 0
            else {}
        )
        slo = spec.slo
        self._slo_detector = (
            BinomialDetector(1.0 - slo.quantile, cp)
            if slo is not None and slo.quantile is not None and cp > 0
            else None
        )
        self._edges: FloatArray | None = None  # set by the first bucketed sample
        self._raw: bool | None = None
        self._pending: dict[Cohort, list[FloatArray]] = {Cohort.BASELINE: [], Cohort.CANARY: []}
        self._hist: dict[Cohort, Histogram] = {}
        self._shift = {q: MeanShift() for q in spec.quantiles}

    def _observe(self, sample: Sample) -> None:
        if not isinstance(sample, LatencySample):
            raise self.wrong_kind(sample)
        if not sample.values and not sample.buckets:
            return
        raw = bool(sample.values)
        if self._raw is None:
            self._raw = raw
            if not raw:
                self._edges = bucket_counts(sample.buckets)[0]
            for c in Cohort:
                self._hist[c] = Histogram.log_spaced() if raw else Histogram(self._edges)  # type: ignore[arg-type]
        elif raw != self._raw:
            raise SampleError(
                f"{'values' if raw else 'buckets'}: metric '{self.spec.name}' takes one form; "
                f"it has received {'buckets' if raw else 'raw values'} before"
            )
        if raw:
            data = np.asarray(sample.values, dtype=np.float64)
            self._hist[sample.cohort].add_values(data)
        else:
            edges, data = bucket_counts(sample.buckets)
            if self._edges is None or not np.array_equal(edges, self._edges):
                raise SampleError(
                    f"buckets: metric '{self.spec.name}' must keep the same bucket bounds"
                )
            self._hist[sample.cohort].add_counts(data)
        self._pending[sample.cohort].append(data)

    def close_interval(self, now: float) -> None:
        canary, baseline = self._pending[Cohort.CANARY], self._pending[Cohort.BASELINE]
        if not baseline:
            return
        b = np.concatenate(baseline) if self._raw else np.sum(baseline, axis=0)
        self._track_baseline(now, b)
        if not canary:
            self._pending[Cohort.BASELINE] = []
            return
        c = np.concatenate(canary) if self._raw else np.sum(canary, axis=0)
        for side, q in self._keys:
            table = self._exceedances(c, b, side, q)
            if table is not None:
                loglik = self._global[(side, q)].update(*table)
                if self._detectors:
                    self._detectors[(side, q)].update(loglik, now)
                self._step[(side, q)].update(*table)
        if self._slo_detector is not None:
            self._slo_detector.update(*self._beyond_objective(c), now)
        self._pending = {Cohort.BASELINE: [], Cohort.CANARY: []}

    def _beyond_objective(self, c: FloatArray) -> tuple[float, float]:
        """(canary requests slower than the SLO's objective, canary requests) of one interval."""
        assert self.spec.slo is not None
        objective = self.spec.slo.objective
        if self._raw:
            return float((c > objective).sum()), float(len(c))
        assert self._edges is not None
        running = np.cumsum(c)
        n = float(running[-1])
        below = float(cumulative_at(self._edges, running, np.array([objective]))[0])
        return max(0.0, n - below), n

    def _track_baseline(self, now: float, b: FloatArray) -> None:
        for q in self.spec.quantiles:
            if self._raw:
                value = float(np.quantile(b, q)) if len(b) else math.nan
            else:
                value = quantile_from_cumulative(self._edges, np.cumsum(b), q)  # type: ignore[arg-type]
            self._shift[q].add(now, value)

    def _exceedances(
        self, c: FloatArray, b: FloatArray, side: int, q: float
    ) -> tuple[float, float, float, float] | None:
        """(canary beyond, canary total, baseline beyond, baseline total) at the pooled quantile."""
        scale = 1.0 + side * self.spec.tolerance
        if self._raw:
            cs = c / scale
            if len(cs) == 0 or len(b) == 0:
                return None
            threshold = float(np.quantile(np.concatenate((cs, b)), q))
            if side > 0:
                return (
                    float((cs > threshold).sum()),
                    len(cs),
                    float((b > threshold).sum()),
                    len(b),
                )
            return (float((cs < threshold).sum()), len(cs), float((b < threshold).sum()), len(b))
        edges = self._edges
        assert edges is not None
        # totals from the running sums, not sum(): for huge counts the two round differently,
        # and a count below an edge must never exceed its total
        running_c, running_b = np.cumsum(c), np.cumsum(b)
        n, m = float(running_c[-1]), float(running_b[-1])
        if n <= 0 or m <= 0:
            return None
        # the scaled canary's cumulative count at each edge e is the canary's at e * scale
        cum_c = cumulative_at(edges, running_c, edges[:-1] * scale)
        cum_b = running_b[:-1]
        pooled = cum_c + cum_b
        i = int(np.searchsorted(pooled, q * (n + m), side="left"))
        if i >= len(pooled):
            return None  # the quantile lies in the +Inf bucket: nothing to compare
        below_c, below_b = round(float(cum_c[i])), float(cum_b[i])
        if side > 0:
            return (n - below_c, n, m - below_b, m)
        return (below_c, n, below_b, m)

    def start_step(self) -> None:
        self._step = {k: ConditionalOddsRatioTest() for k in self._keys}

    def _ratio_interval(self, q: float, alpha: float) -> Interval | None:
        """Canary over baseline p-quantile, minus 1, from one interval per cohort at alpha / 2."""
        hist_c, hist_b = self._hist.get(Cohort.CANARY), self._hist.get(Cohort.BASELINE)
        if hist_c is None or hist_b is None or hist_c.total <= 0 or hist_b.total <= 0:
            return None
        est_c, lo_c, hi_c = binomial_cs.quantile_interval(
            (hist_c.edges, hist_c.counts), q, alpha / 2
        )
        est_b, lo_b, hi_b = binomial_cs.quantile_interval(
            (hist_b.edges, hist_b.counts), q, alpha / 2
        )
        if not est_b > 0:
            return None
        return Interval(
            estimate=est_c / est_b - 1,
            low=lo_c / hi_b - 1 if hi_b > 0 and math.isfinite(hi_b) else -1.0,
            high=hi_c / lo_b - 1 if lo_b > 0 and math.isfinite(hi_c) else math.inf,
        )

    def _quantile_effect(self, q: float) -> tuple[Interval | None, str, dict[int, float]]:
        label = f"p{q * 100:g} latency"
        effect = self._ratio_interval(q, self.test_alpha)
        gate = self._ratio_interval(q, self.gate_alpha)
        if effect is None or gate is None:
            return None, f"{label}: no data", {1: math.inf, -1: math.inf}
        hist_c, hist_b = self._hist[Cohort.CANARY], self._hist[Cohort.BASELINE]
        values = f"({quantity(hist_c.quantile(q))} vs {quantity(hist_b.quantile(q))})"
        harm = {1: gate.high, -1: -gate.low}
        return effect, f"{effect_text(label, effect)} {values}", harm

    def checks(self) -> list[Check]:
        out = []
        effects = {q: self._quantile_effect(q) for q in self.spec.quantiles}
        for side, q in self._keys:
            g, s = self._global[(side, q)], self._step[(side, q)]
            effect, text, harm = effects[q]
            label = f"p{q * 100:g}" + ("" if len(sides(self.spec.direction)) == 1 else f"{side:+d}")
            detector = self._detectors.get((side, q))
            reg = g.log_e_above(0.0) if detector is None else detector.log_e()
            safe = s.log_e_below(0.0)
            out.append(Check(label, reg, safe, self.threshold, effect, text, harm[side]))
        slo = self.spec.slo
        if slo is not None and slo.quantile is not None:
            out.append(self._slo_check(slo.objective, slo.quantile))
        return out

    def _slo_check(self, objective: float, q: float) -> Check:
        hist_c, hist_b = self._hist.get(Cohort.CANARY), self._hist.get(Cohort.BASELINE)
        if hist_c is None or hist_b is None or hist_c.total <= 0:
            return Check(
                "slo", 0.0, 0.0, self.slo_threshold, None, "SLO: no canary data", -math.inf
            )
        n = hist_c.total
        k = n - float(hist_c.cdf_at(objective)[0])
        reg = (
            binomial_cs.log_e_above(k, n, 1 - q)
            if self._slo_detector is None
            else self._slo_detector.log_e()
        )
        safe = binomial_cs.log_e_below(k, n, 1 - q)
        text = (
            f"canary p{q * 100:g} {quantity(hist_c.quantile(q))} against SLO {quantity(objective)}"
        )
        if hist_b.total > 0 and hist_b.quantile(q) > objective:
            reg = 0.0  # the baseline breaches too: not the release's fault
            text += " (baseline breaches it too)"
        return Check("slo", reg, safe, self.slo_threshold, None, text, -math.inf)

    def baseline_shift(self, now: float) -> str | None:
        for side in sides(self.spec.direction):
            for q in self.spec.quantiles:
                found = self._shift[q].shift(now, self.spec.tolerance, side)
                if found:
                    return f"p{q * 100:g} latency {found}"
        return None
