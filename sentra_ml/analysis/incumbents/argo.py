"""Argo Rollouts: canary steps with a background AnalysisRun on a Prometheus provider.

What Argo does, and this rule reproduces (argoproj/argo-rollouts docs "Analysis & Progressive
Delivery", analysis controller `assessMetricStatus`, `evaluate.EvaluateResult`):

* Steps `setWeight: w` / `pause: {duration}` run in order; after the last step the rollout is
  complete (PROMOTE). The background AnalysisRun starts with the rollout (`startingStep: 0`): its
  first measurement is taken immediately, then one every `interval`.
* A measurement is Successful when `successCondition` holds. With only a successCondition, any
  other value is Failed; with a `failureCondition` too, a value meeting neither is Inconclusive.
  NaN (0/0: the canary series exist but had no requests) fails `result[0] >= 0.95`, as Argo's docs
  show. An empty result (no canary series in the window) makes `result[0]` an evaluation error:
  the measurement is an Error.
* The metric is Failed when failed measurements > `failureLimit`, Inconclusive when inconclusive
  ones > `inconclusiveLimit` (default 0), Errored when consecutive errors > `consecutiveErrorLimit`
  (default 4). Failed or Errored aborts the rollout (ROLLBACK); Inconclusive pauses it (PAUSE,
  held: it needs a human).
* A measurement due at the same instant as a step change is taken first (in Argo the background
  measurements drift slightly ahead of the pauses, which also pay for the setWeight reconciles).

Defaults: the docs' background-analysis example (`setWeight` 20/40/60/80 each followed by a
pause, `successCondition: result[0] >= 0.95`, `failureLimit: 3`), with the pause and interval
shortened to 60 s (the docs use 10m / 5m) and the success ratio taken over the last interval.
`latency_max_ms` adds an optional second metric (`result[0] <= max` on a quantile), off by default.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from sentra_ml.analysis.incumbents.base import StepRule
from sentra_ml.analysis.types.labels import Action, Cohort, MetricStatus
from sentra_ml.analysis.types.verdict import MetricEvidence


@dataclass
class _MetricResult:
    name: str
    failed: int = 0
    inconclusive: int = 0
    errors: int = 0
    consecutive_errors: int = 0
    successful: int = 0


class ArgoRollouts(StepRule):
    """Argo Rollouts canary with background analysis, driven by simulated telemetry."""

    name = "argo-rollouts"
    title = "Argo"

    def __init__(
        self,
        *,
        steps: Sequence[float] = (20.0, 40.0, 60.0, 80.0),
        pause: float = 60.0,
        interval: float = 60.0,
        success_min: float = 0.95,
        failure_below: float | None = None,
        failure_limit: int = 3,
        inconclusive_limit: int = 0,
        consecutive_error_limit: int = 4,
        latency_max_ms: float | None = None,
        latency_quantile: float = 0.99,
        query_window: float | None = None,
        ratio_metric: str = "errors",
        latency_metric: str = "latency_ms",
        start: float = 0.0,
    ) -> None:
        if not steps or pause < 0 or interval <= 0:
            raise ValueError("steps must not be empty, pause >= 0 and interval > 0")
        super().__init__(steps[0], start, (ratio_metric, latency_metric))
        self.steps = tuple(float(w) for w in steps)
        self.pause = pause
        self.interval = interval
        self.success_min = success_min
        self.failure_below = failure_below
        self.failure_limit = failure_limit
        self.inconclusive_limit = inconclusive_limit
        self.consecutive_error_limit = consecutive_error_limit
        self.latency_max_ms = latency_max_ms
        self.latency_quantile = latency_quantile
        self.query_window = interval if query_window is None else query_window
        self.ratio_metric = ratio_metric
        self.latency_metric = latency_metric
        self.step_index = 0
        self.measurements = 0
        self.results = [_MetricResult("success-rate")]
        if latency_max_ms is not None:
            self.results.append(_MetricResult("request-duration"))

    def _next_measurement(self) -> float:
        return self.start + self.measurements * self.interval

    def _next_step(self) -> float:
        return self.start + (self.step_index + 1) * self.pause

    def _next_due(self) -> float:
        return min(self._next_measurement(), self._next_step())

    def _act(self, t: float) -> None:
        if self._next_measurement() <= t:
            self.measurements += 1
            self._measure(t)
            if self.final is not None:
                return
        if self._next_step() <= t:
            self.step_index += 1
            if self.step_index >= len(self.steps):
                self._finish(Action.PROMOTE, t)
                self._record(["Argo: all canary steps completed, promoting", *self._reasons])
                return
            before, self.weight = self.weight, self.steps[self.step_index]
            self._record(
                [f"Argo: pause over, setWeight {before:g} % -> {self.weight:g} %", *self._reasons]
            )

    def _measure(self, t: float) -> None:
        evidence = [self._success_rate(t)]
        if self.latency_max_ms is not None:
            evidence.append(self._duration(t))
        reasons = [e.summary for e in evidence]
        for result, ev in zip(self.results, evidence, strict=True):
            _count(result, ev.status)
            verdict = self._assess(result)
            if verdict is not None:
                action, why = verdict
                self._finish(action, t)
                reasons.insert(0, why)
                break
        self.risk = min(1.0, max(r.failed / (self.failure_limit + 1) for r in self.results))
        self.score = 100.0 * (1.0 - self.risk)
        self._record(reasons, evidence)

    def _assess(self, r: _MetricResult) -> tuple[Action, str] | None:
        """Argo's order: failureLimit, inconclusiveLimit, consecutiveErrorLimit."""
        if r.failed > self.failure_limit:
            return Action.ROLLBACK, (
                f"Argo: {r.name} failed {r.failed} > failureLimit {self.failure_limit}, aborting"
            )
        if r.inconclusive > self.inconclusive_limit:
            return Action.PAUSE, (
                f"Argo: {r.name} inconclusive {r.inconclusive} > "
                f"inconclusiveLimit {self.inconclusive_limit}, paused"
            )
        if r.consecutive_errors > self.consecutive_error_limit:
            return Action.ROLLBACK, (
                f"Argo: {r.name} consecutive errors {r.consecutive_errors} > "
                f"consecutiveErrorLimit {self.consecutive_error_limit}, aborting"
            )
        return None

    def _success_rate(self, t: float) -> MetricEvidence:
        total, failed, n = self.log.ratio(
            self.ratio_metric, Cohort.CANARY, t - self.query_window, t
        )
        if n == 0:
            return _ev(
                self.ratio_metric,
                MetricStatus.NO_DATA,
                "success-rate: empty result, result[0] is an error",
            )
        value = 1.0 - failed / total if total > 0 else math.nan
        if value >= self.success_min:
            status, cmp = MetricStatus.SAFE, ">="
        elif self.failure_below is None or value < self.failure_below:  # NaN < x is false
            status, cmp = MetricStatus.REGRESSION, "<"
        else:
            status, cmp = MetricStatus.INCONCLUSIVE, "<"
        return _ev(
            self.ratio_metric,
            status,
            f"success-rate {value:.4f} {cmp} {self.success_min:g}",
            value=value,
        )

    def _duration(self, t: float) -> MetricEvidence:
        assert self.latency_max_ms is not None
        dist = self.log.latency(self.latency_metric, Cohort.CANARY, t - self.query_window, t)
        if dist is None:
            return _ev(
                self.latency_metric,
                MetricStatus.NO_DATA,
                "request-duration: empty result, result[0] is an error",
            )
        q = dist.quantile(self.latency_quantile)
        ok = q <= self.latency_max_ms
        return _ev(
            self.latency_metric,
            MetricStatus.SAFE if ok else MetricStatus.REGRESSION,
            f"request-duration p{100 * self.latency_quantile:g} {q:.0f} ms "
            f"{'<=' if ok else '>'} {self.latency_max_ms:g} ms",
            value=q,
        )


def _count(r: _MetricResult, status: MetricStatus) -> None:
    if status is MetricStatus.NO_DATA:
        r.errors += 1
        r.consecutive_errors += 1
        return
    r.consecutive_errors = 0
    if status is MetricStatus.SAFE:
        r.successful += 1
    elif status is MetricStatus.INCONCLUSIVE:
        r.inconclusive += 1
    else:
        r.failed += 1


def _ev(metric: str, status: MetricStatus, summary: str, **details: float) -> MetricEvidence:
    risk = {MetricStatus.SAFE: 0.0, MetricStatus.REGRESSION: 1.0}.get(status, 0.5)
    return MetricEvidence(metric, status, None, 1.0, risk, f"Argo: {summary}", details)
