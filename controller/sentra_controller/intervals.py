"""What each tick adds to a rollout's series: per metric and cohort, the interval's value from
the samples the judge took since the last tick; the effect with its confidence interval and the
forecast from the verdict and the judge; the rollout's weight, risk, score and anomaly scores."""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Any

import numpy as np

from sentra_ml.analysis.judge import RolloutJudge
from sentra_ml.analysis.stats.histogram import quantile_from_cumulative
from sentra_ml.analysis.types.labels import MetricKind
from sentra_ml.analysis.types.samples import GaugeSample, LatencySample, RatioSample, Sample
from sentra_ml.analysis.types.specs import RolloutSpec
from sentra_ml.store.series import ROLLOUT, Point, latency_quantile


class IntervalWindow:
    """The samples of one interval, per (metric, cohort), until `drain`."""

    def __init__(self, spec: RolloutSpec) -> None:
        self.spec = spec
        self._samples: dict[tuple[str, str], list[Sample]] = defaultdict(list)

    def add(self, sample: Sample) -> None:
        self._samples[(sample.metric, str(sample.cohort))].append(sample)

    def drain(self, now: float, verdict: dict[str, Any], judge: RolloutJudge) -> list[Point]:
        """The points of this tick; the window starts empty again."""
        points = [
            point
            for (metric, cohort), samples in self._samples.items()
            if (point := self._value(now, metric, cohort, samples)) is not None
        ]
        self._samples.clear()
        for e in verdict.get("evidence") or []:
            effect = e.get("effect")
            if effect is not None and effect.get("estimate") is not None:
                points.append(
                    Point(now, e["metric"], "effect", effect["estimate"], effect.get("low"),
                          effect.get("high"))
                )  # fmt: skip
        for metric, (ahead, outlook) in judge.drift.forecasts().items():
            mean, high = outlook.mean_at_horizon, outlook.high_at_horizon
            if math.isfinite(mean) and math.isfinite(high):
                points.append(Point(now + ahead, metric, "forecast", mean, 2 * mean - high, high))
        for name in ("weight", "risk", "score"):
            value = verdict.get(name)
            if value is not None:
                points.append(Point(now, ROLLOUT, name, float(value)))
        anomaly = verdict.get("anomaly") or {}
        for cohort in ("baseline", "canary"):
            score = anomaly.get(cohort)
            if score is not None:
                flagged = bool(anomaly.get(f"{cohort}_flag"))
                points.append(Point(now, ROLLOUT, f"anomaly.{cohort}", score, flagged=flagged))
        return points

    def _value(self, now: float, metric: str, cohort: str, samples: list[Sample]) -> Point | None:
        """The interval's error ratio, latency quantile or gauge mean, with its sample count."""
        try:
            spec = self.spec.metric(metric)
        except KeyError:
            return None
        if spec.kind is MetricKind.RATIO:
            ratios = [s for s in samples if isinstance(s, RatioSample)]
            total = sum(s.total for s in ratios)
            failed = sum(s.failed for s in ratios)
            return Point(now, metric, cohort, failed / total if total > 0 else None, count=total)
        if spec.kind is MetricKind.GAUGE:
            values = [s.value for s in samples if isinstance(s, GaugeSample)]
            mean = sum(values) / len(values) if values else None
            return Point(now, metric, cohort, mean, count=float(len(values)))
        latencies = [s for s in samples if isinstance(s, LatencySample)]
        q = latency_quantile(spec)
        raw = [v for s in latencies for v in s.values]
        if raw:
            return Point(now, metric, cohort, float(np.quantile(raw, q)), count=float(len(raw)))
        return _bucket_quantile(now, metric, cohort, latencies, q)


def _bucket_quantile(
    now: float, metric: str, cohort: str, samples: list[LatencySample], q: float
) -> Point | None:
    """The quantile of the summed histograms (those on the first sample's bounds)."""
    bucketed = [s for s in samples if s.buckets]
    if not bucketed:
        return None
    bounds = [le for le, _ in bucketed[0].buckets]
    same = [s for s in bucketed if [le for le, _ in s.buckets] == bounds]
    cumulative = np.sum([[c for _, c in s.buckets] for s in same], axis=0)
    value = quantile_from_cumulative(np.array(bounds), cumulative, q)
    return Point(
        now, metric, cohort, value if math.isfinite(value) else None, count=float(cumulative[-1])
    )
