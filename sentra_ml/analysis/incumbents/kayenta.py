"""Kayenta (Netflix ACA judge) as run by Spinnaker's canary analysis stage, one stage per step.

Every `interval_minutes` the stage asks the judge to compare canary and baseline over all data
since the canary started, as one value per metric per `metric_step` (1 minute): the error ratio
of the minute and the latency statistics (`p99`, `mean`, ...) of the minute. The judge
(`kayenta_judge`, a port of NetflixACAJudge-v1.0) classifies each metric with the Mann-Whitney
classifier and scores the % of classified metrics that Pass.

Kayenta's own values (hard-coded or defaulted in its source): confidence 0.98, tolerance 0.25,
allowed increase/decrease 1.0 (mean ratio), `nanStrategy` remove (its "none"), IQR outlier removal
(factor 3, reduced sensitivity), critical metrics force a score of 0, metrics without data are
left out of the score (all of them without data: score 0). Spinnaker's: a score below the
marginal threshold fails the stage at once; the thresholds marginal 75 / pass 95 are the usual
configured values (they are per-stage settings, not hard defaults).

Choices made here: `direction` INCREASE (Kayenta's default is "either", which also fails a
canary that got better); a metric with fewer than `min_points` finite one-minute values in
either cohort is Nodata (not a failure, not counted, never critical); a minute without any
sample is a missing point, a minute with samples but no requests is NaN (as a PromQL ratio
gives); `interval_minutes` 5 and weights 10/25/50 with one judgement per step
(`judgements_per_step` = Spinnaker's lifetime / interval); at a step's last judgement a Marginal
score keeps the weight for one more judgement (`marginal_retries`; 0 is Spinnaker-exact: a final
Marginal fails the stage) and Pass advances (PROMOTE after the last step). No warm-up.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from sentra_ml.analysis.incumbents.base import LatencyDistribution, StepRule
from sentra_ml.analysis.incumbents.kayenta_judge import (
    Classification,
    Label,
    ScoreClass,
    classify,
    score,
    score_class,
)
from sentra_ml.analysis.types.labels import Action, Cohort, Direction, MetricStatus
from sentra_ml.analysis.types.samples import LatencySample
from sentra_ml.analysis.types.verdict import Interval, MetricEvidence

_STATUS = {
    Label.PASS: MetricStatus.SAFE,
    Label.HIGH: MetricStatus.REGRESSION,
    Label.LOW: MetricStatus.REGRESSION,
    Label.NODATA: MetricStatus.NO_DATA,
    Label.ERROR: MetricStatus.INCONCLUSIVE,
}


class Kayenta(StepRule):
    """Spinnaker + Kayenta canary analysis, one analysis stage per traffic step."""

    name = "kayenta"
    title = "Kayenta"

    def __init__(
        self,
        *,
        steps: Sequence[float] = (10.0, 25.0, 50.0),
        interval_minutes: float = 5.0,
        metric_step: float = 60.0,
        pass_threshold: float = 95.0,
        marginal_threshold: float = 75.0,
        confidence: float = 0.98,
        tolerance: float = 0.25,
        allowed_increase: float = 1.0,
        allowed_decrease: float = 1.0,
        direction: Direction = Direction.INCREASE,
        latency_stats: Sequence[str] = ("p99",),
        critical: Sequence[str] = (),
        min_points: int = 3,
        nan_strategy: str = "remove",
        judgements_per_step: int = 1,
        marginal_retries: int = 1,
        ratio_metric: str = "errors",
        latency_metric: str = "latency_ms",
        start: float = 0.0,
    ) -> None:
        if not steps or interval_minutes <= 0 or metric_step <= 0 or judgements_per_step < 1:
            raise ValueError("need steps, interval_minutes > 0, metric_step > 0, judgements >= 1")
        if nan_strategy not in ("replace", "remove"):
            raise ValueError("nan_strategy: 'replace' or 'remove'")
        super().__init__(steps[0], start, (ratio_metric, latency_metric))
        self.steps = tuple(float(w) for w in steps)
        self.interval = 60.0 * interval_minutes
        self.metric_step = metric_step
        self.pass_threshold = pass_threshold
        self.marginal_threshold = marginal_threshold
        self.options = {
            "confidence": confidence,
            "tolerance": tolerance,
            "allowed_increase": allowed_increase,
            "allowed_decrease": allowed_decrease,
        }
        self.direction = direction
        self.latency_stats = tuple(latency_stats)
        for stat in self.latency_stats:
            _stat_quantile(stat)  # validate early
        self.critical = frozenset(critical)
        self.min_points = min_points
        self.nan_strategy = nan_strategy
        self.judgements_per_step = judgements_per_step
        self.marginal_retries = marginal_retries
        self.ratio_metric = ratio_metric
        self.latency_metric = latency_metric
        self.step_index = 0
        self.judgements = 0
        self._step_judgements = 0
        self._step_retries = 0

    def _next_due(self) -> float:
        return self.start + (self.judgements + 1) * self.interval

    def _act(self, t: float) -> None:
        self.judgements += 1
        self._step_judgements += 1
        results = self.judge(t)
        value = score([c for _, c in results])
        self.score, self.risk = value, 1.0 - value / 100.0
        judged = score_class(value, self.pass_threshold, self.marginal_threshold)
        head = f"Kayenta: score {value:.0f} ({judged})"
        reasons = [
            f"{name}: {c.label}" + (f" ({c.reason})" if c.reason else "") for name, c in results
        ]
        last = self._step_judgements >= self.judgements_per_step
        if judged is ScoreClass.FAIL:
            self._finish(Action.ROLLBACK, t)
            head += f" < marginal {self.marginal_threshold:g}, rolling back"
        elif judged is ScoreClass.MARGINAL and last and self._step_retries >= self.marginal_retries:
            self._finish(Action.ROLLBACK, t)
            head += " again at the end of the stage, rolling back"
        elif judged is ScoreClass.MARGINAL and last:
            self._step_retries += 1
            self._step_judgements -= 1
            head += f", holding at {self.weight:g} % for one more judgement"
        elif judged is ScoreClass.PASS and last:
            head += self._advance(t)
        else:
            head += f", stage continues at {self.weight:g} %"
        self._record([head, *reasons], [_evidence(name, c) for name, c in results])

    def _advance(self, t: float) -> str:
        if self.step_index + 1 >= len(self.steps):
            self._finish(Action.PROMOTE, t)
            return ", last step passed, promoting"
        before = self.weight
        self.step_index += 1
        self.weight = self.steps[self.step_index]
        self._step_judgements = 0
        self._step_retries = 0
        return f", advancing {before:g} % -> {self.weight:g} %"

    def judge(self, t: float) -> list[tuple[str, Classification]]:
        """Classify every metric on the one-minute series from the start up to `t`."""
        out = []
        for name, canary, baseline in self.series(t):
            finite = min(np.isfinite(canary).sum(), np.isfinite(baseline).sum())
            if finite < self.min_points:
                c = Classification(Label.NODATA, reason=f"{finite} < {self.min_points} points")
            else:
                c = classify(
                    canary,
                    baseline,
                    direction=self.direction,
                    critical=name in self.critical,
                    nan_strategy=self.nan_strategy,
                    **self.options,
                )
            out.append((name, c))
        return out

    def series(self, t: float) -> list[tuple[str, np.ndarray, np.ndarray]]:
        """(metric label, canary values, baseline values), one value per complete minute."""
        minutes = math.floor((t - self.start) / self.metric_step + 1e-9)
        bounds = [
            (self.start + j * self.metric_step, self.start + (j + 1) * self.metric_step)
            for j in range(minutes)
        ]
        labels = [self.ratio_metric] + [f"{self.latency_metric}.{s}" for s in self.latency_stats]
        values: dict[tuple[str, Cohort], list[float]] = {}
        for cohort in (Cohort.CANARY, Cohort.BASELINE):
            for lo, hi in bounds:
                total, failed, n = self.log.ratio(self.ratio_metric, cohort, lo, hi)
                if n:
                    values.setdefault((labels[0], cohort), []).append(
                        failed / total if total > 0 else math.nan
                    )
                window = self.log.window(self.latency_metric, cohort, lo, hi)
                if not any(isinstance(s, LatencySample) for s in window):
                    continue
                dist = self.log.latency(self.latency_metric, cohort, lo, hi)
                for label, stat in zip(labels[1:], self.latency_stats, strict=True):
                    values.setdefault((label, cohort), []).append(_stat(dist, stat))
        return [
            (
                label,
                np.array(values.get((label, Cohort.CANARY), []), dtype=np.float64),
                np.array(values.get((label, Cohort.BASELINE), []), dtype=np.float64),
            )
            for label in labels
        ]


def _stat_quantile(stat: str) -> float | None:
    """None for "mean", else the quantile of "pNN" (p99 -> 0.99, p99.9 -> 0.999)."""
    if stat == "mean":
        return None
    if stat.startswith("p"):
        q = float(stat[1:]) / 100.0
        if 0.0 < q < 1.0:
            return q
    raise ValueError(f"latency_stats: '{stat}' is not 'mean' or 'pNN'")


def _stat(dist: LatencyDistribution | None, stat: str) -> float:
    if dist is None:  # samples, but no requests in the minute: NaN, as Prometheus answers
        return math.nan
    q = _stat_quantile(stat)
    return dist.mean() if q is None else dist.quantile(q)


def _evidence(name: str, c: Classification) -> MetricEvidence:
    effect = None
    base = c.details.get("baseline_mean", 0.0)
    if c.mw is not None and base:
        effect = Interval(c.mw.estimate / base, c.mw.low / base, c.mw.high / base)
    risk = {Label.PASS: 0.0, Label.HIGH: 1.0, Label.LOW: 1.0}.get(c.label, 0.5)
    summary = f"Kayenta {name}: {c.label}"
    if c.mw is not None:
        summary += f", shift {c.mw.estimate:.4g} [{c.mw.low:.4g}, {c.mw.high:.4g}]"
    return MetricEvidence(name, _STATUS[c.label], effect, 1.0, risk, summary, dict(c.details))
