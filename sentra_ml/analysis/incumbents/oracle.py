"""An oracle that knows the fault: Wald's SPRT on the canary's per-request outcomes.

Given the true canary probability `p1` of a bad request after the fault onset and the true
baseline probability `p0`, every canary request after `onset` adds its log likelihood ratio;
a sample with `f` bad requests among `n` adds `f log(p1/p0) + (n - f) log((1 - p1)/(1 - p0))`.
It rolls back as soon as the sum reaches `log(1/alpha)`. No test that knows less can be faster
on average at the same error rate (Wald & Wolfowitz), so its time to rollback is the physical
limit for that fault and traffic.

"Bad" is a failed request (`p1`, `p0`: error ratios, read from the ratio metric), or for latency
faults a request slower than `threshold_ms` (`q1`, `q0`: true exceedance probabilities, read
from the latency metric: raw values are counted, buckets interpolated at the threshold).

It never promotes and has no lower boundary: with no fault (`p1 == p0`) every increment is 0 and
it CONTINUEs at `weight` for ever; under `p1 < p0` the sum drifts down. Only canary samples ending
after `onset` count; the baseline's samples are not needed (the oracle knows `p0`).
"""

from __future__ import annotations

import math

import numpy as np

from sentra_ml.analysis.incumbents.base import StepRule, cumulative_count, merge_latency
from sentra_ml.analysis.types.labels import Action, Cohort, MetricStatus
from sentra_ml.analysis.types.samples import LatencySample, RatioSample, Sample
from sentra_ml.analysis.types.verdict import MetricEvidence, Verdict


class OracleSPRT(StepRule):
    """Wald's SPRT with the true fault parameters; evaluates at every call."""

    name = "oracle-sprt"
    title = "Oracle SPRT"

    def __init__(
        self,
        *,
        p1: float | None = None,
        p0: float | None = None,
        threshold_ms: float | None = None,
        q1: float | None = None,
        q0: float | None = None,
        onset: float = 0.0,
        alpha: float = 0.01,
        weight: float = 10.0,
        ratio_metric: str = "errors",
        latency_metric: str = "latency_ms",
        start: float = 0.0,
    ) -> None:
        errors = p1 is not None or p0 is not None
        latency = threshold_ms is not None or q1 is not None or q0 is not None
        if errors == latency:
            raise ValueError("give either p1 and p0 (errors) or threshold_ms, q1, q0 (latency)")
        if errors and (p1 is None or p0 is None):
            raise ValueError("p1 and p0 go together")
        if latency and (threshold_ms is None or q1 is None or q0 is None):
            raise ValueError("threshold_ms, q1 and q0 go together")
        bad, base = (p1, p0) if errors else (q1, q0)
        assert bad is not None and base is not None
        if not (0.0 < bad < 1.0 and 0.0 < base < 1.0) or not 0.0 < alpha < 1.0:
            raise ValueError("probabilities and alpha must be in (0, 1)")
        metric = ratio_metric if errors else latency_metric
        super().__init__(weight, start, (metric,))
        self.metric = metric
        self.threshold_ms = threshold_ms
        self.onset = onset
        self.alpha = alpha
        self.p1, self.p0 = bad, base
        self.log_bad = math.log(bad / base)
        self.log_good = math.log((1.0 - bad) / (1.0 - base))
        self.boundary = math.log(1.0 / alpha)
        self.llr = 0.0
        self.requests = 0.0
        self.bad_requests = 0.0
        self._due = math.inf

    def observe(self, sample: Sample) -> None:
        if sample.metric != self.metric or sample.cohort is not Cohort.CANARY:
            return
        if sample.ts <= self.onset:
            return
        if isinstance(sample, RatioSample) and self.threshold_ms is None:
            n, f = sample.total, sample.failed
        elif isinstance(sample, LatencySample) and self.threshold_ms is not None:
            n, f = _exceedances(sample, self.threshold_ms)
        else:
            return
        self.requests += n
        self.bad_requests += f
        self.llr += f * self.log_bad + (n - f) * self.log_good

    def _next_due(self) -> float:
        return self._due

    def evaluate(self, now: float) -> Verdict:
        self._due = now  # every call is a check
        return super().evaluate(now)

    def _act(self, t: float) -> None:
        self._due = math.inf
        self.risk = min(1.0, max(0.0, self.llr / self.boundary))
        self.score = 100.0 * (1.0 - self.risk)
        what = "failed" if self.threshold_ms is None else f"slower than {self.threshold_ms:g} ms"
        summary = (
            f"Oracle SPRT: log LR {self.llr:.2f} / {self.boundary:.2f} after "
            f"{self.requests:.0f} canary requests ({self.bad_requests:.0f} {what})"
        )
        status = MetricStatus.INCONCLUSIVE
        if self.llr >= self.boundary:
            status = MetricStatus.REGRESSION
            self._finish(Action.ROLLBACK, t)
            summary += ", rolling back"
        e_value = math.exp(max(-700.0, min(700.0, self.llr)))
        details = {
            "llr": self.llr,
            "boundary": self.boundary,
            "p1": self.p1,
            "p0": self.p0,
            "requests": self.requests,
            "bad": self.bad_requests,
        }
        ev = MetricEvidence(self.metric, status, None, e_value, self.risk, summary, details)
        self._record([summary], [ev])


def _exceedances(sample: LatencySample, threshold_ms: float) -> tuple[float, float]:
    """(requests, requests slower than the threshold) of one latency sample."""
    if sample.values:
        values = np.asarray(sample.values, dtype=np.float64)
        return float(values.size), float((values > threshold_ms).sum())
    dist = merge_latency([sample])
    if dist is None or dist.edges is None or dist.cumulative is None:
        return 0.0, 0.0
    below = float(cumulative_count(dist.edges, dist.cumulative, threshold_ms)[0])
    return dist.count, max(0.0, dist.count - below)
