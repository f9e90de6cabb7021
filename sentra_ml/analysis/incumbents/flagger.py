"""Flagger's canary analysis (progressive traffic shifting with the built-in metric checks).

What Flagger does, and this rule reproduces (fluxcd/flagger `pkg/controller/scheduler.go`,
`scheduler_metrics.go`; docs "Canary analysis"):

* Every `analysis.interval` the scheduler ticks once. At the start of a tick, if
  `failedChecks >= analysis.threshold` the canary is rolled back (weight 0) - *before* any new
  check, so the rollback lands on the tick after the threshold-th failed check.
* Otherwise it runs the metric checks on the canary only (no baseline comparison), each over the
  last `metric.interval` (default 1m): `request-success-rate` (% of non-5xx requests,
  `thresholdRange.min`) then `request-duration` (`histogram_quantile(0.99, ...)` in ms,
  `thresholdRange.max`). The first failing check fails the tick: `failedChecks += 1` and the
  weight is held ("halt advancement"). A query with no values (the canary got no requests) is an
  error, so it fails the tick too. Failed checks accumulate; a passing tick does not reset them.
* A passing tick advances the weight by `stepWeight` (it may overshoot `maxWeight`, capped at 100);
  a passing tick at a weight >= `maxWeight` promotes.
* Before the first check Flagger moves the weight from 0 to `stepWeight` without analysis; here the
  rule starts there (at `start`), so with the defaults the first check is at start + 60 s,
  promotion at start + 300 s = interval * maxWeight / stepWeight (the formula in Flagger's docs),
  and a canary failing every check is rolled back at start + 360 s = interval * (threshold + 1).

Defaults are Flagger's documented example values (`interval: 1m`, `threshold: 5`,
`maxWeight: 50`, `stepWeight: 10`, success rate >= 99 %, p99 duration <= 500 ms).
"""

from __future__ import annotations

from sentra_ml.analysis.incumbents.base import StepRule
from sentra_ml.analysis.types.labels import Action, Cohort, MetricStatus
from sentra_ml.analysis.types.verdict import MetricEvidence


class Flagger(StepRule):
    """Flagger's progressive canary analysis, driven by simulated telemetry.

    `duration_max_ms=None` drops the `request-duration` check (for telemetry without latency).
    """

    name = "flagger"
    title = "Flagger"

    def __init__(
        self,
        *,
        interval: float = 60.0,
        threshold: int = 5,
        step_weight: float = 10.0,
        max_weight: float = 50.0,
        success_rate_min: float = 99.0,
        duration_max_ms: float | None = 500.0,
        duration_quantile: float = 0.99,
        metric_interval: float = 60.0,
        ratio_metric: str = "errors",
        latency_metric: str = "latency_ms",
        start: float = 0.0,
    ) -> None:
        if interval <= 0 or metric_interval <= 0 or threshold < 1 or step_weight <= 0:
            raise ValueError("interval, metric_interval, step_weight must be > 0, threshold >= 1")
        super().__init__(min(step_weight, 100.0), start, (ratio_metric, latency_metric))
        self.interval = interval
        self.threshold = threshold
        self.step_weight = step_weight
        self.max_weight = max_weight
        self.success_rate_min = success_rate_min
        self.duration_max_ms = duration_max_ms
        self.duration_quantile = duration_quantile
        self.metric_interval = metric_interval
        self.ratio_metric = ratio_metric
        self.latency_metric = latency_metric
        self.failed_checks = 0
        self.ticks = 0

    def _next_due(self) -> float:
        return self.start + (self.ticks + 1) * self.interval

    def _act(self, t: float) -> None:
        self.ticks += 1
        if self.failed_checks >= self.threshold:
            self._finish(Action.ROLLBACK, t)
            self._record(
                [
                    f"Flagger: rolling back, failed checks {self.failed_checks} >= "
                    f"threshold {self.threshold}",
                    *self._reasons,
                ]
            )
            return
        evidence = self._checks(t)
        failed = next((e for e in evidence if e.status is not MetricStatus.SAFE), None)
        if failed is not None:
            self.failed_checks += 1
            self.risk = min(1.0, self.failed_checks / self.threshold)
            self.score = 100.0 * (1.0 - self.risk)
            self._record(
                [
                    f"Flagger: {failed.summary} (failed checks "
                    f"{self.failed_checks}/{self.threshold}), halting at {self.weight:g} %"
                ],
                evidence,
            )
            return
        if self.weight >= self.max_weight:
            self._finish(Action.PROMOTE, t)
            self._record(
                [f"Flagger: checks passed at max weight {self.weight:g} %, promoting"], evidence
            )
            return
        before = self.weight
        self.weight = min(100.0, self.weight + self.step_weight)
        self._record(
            [f"Flagger: checks passed, advancing {before:g} % -> {self.weight:g} %"], evidence
        )

    def _checks(self, t: float) -> list[MetricEvidence]:
        """The built-in checks in Flagger's order; evaluation stops at the first failure."""
        lo = t - self.metric_interval
        total, failed, _ = self.log.ratio(self.ratio_metric, Cohort.CANARY, lo, t)
        if total <= 0:
            return [
                _evidence(
                    self.ratio_metric,
                    MetricStatus.NO_DATA,
                    "request-success-rate: no values found (canary got no requests)",
                )
            ]
        rate = 100.0 * (1.0 - failed / total)
        ok = rate >= self.success_rate_min
        cmp = ">=" if ok else "<"
        out = [
            _evidence(
                self.ratio_metric,
                MetricStatus.SAFE if ok else MetricStatus.REGRESSION,
                f"request-success-rate {rate:.2f} % {cmp} {self.success_rate_min:g} %",
                value=rate,
                threshold=self.success_rate_min,
                requests=total,
            )
        ]
        if not ok or self.duration_max_ms is None:
            return out
        dist = self.log.latency(self.latency_metric, Cohort.CANARY, lo, t)
        if dist is None:
            out.append(
                _evidence(
                    self.latency_metric,
                    MetricStatus.NO_DATA,
                    "request-duration: no values found (canary got no requests)",
                )
            )
            return out
        q = dist.quantile(self.duration_quantile)
        ok = q <= self.duration_max_ms
        label, cmp = f"p{100 * self.duration_quantile:g}", "<=" if ok else ">"
        out.append(
            _evidence(
                self.latency_metric,
                MetricStatus.SAFE if ok else MetricStatus.REGRESSION,
                f"request-duration {label} {q:.0f} ms {cmp} {self.duration_max_ms:g} ms",
                value=q,
                threshold=self.duration_max_ms,
                requests=dist.count,
            )
        )
        return out


def _evidence(metric: str, status: MetricStatus, summary: str, **details: float) -> MetricEvidence:
    risk = 0.0 if status is MetricStatus.SAFE else 1.0
    return MetricEvidence(metric, status, None, 1.0, risk, summary, details)
