"""The service's learned normal as evidence: is the baseline, or the canary, unlike the service?

One `ServiceLearner` per service learns the baseline's windows (error ratios, latency quantiles,
time of day); each window is scored before it is learned. Canary windows are scored and never
learned. Both cohorts' windows are cut to the same number of requests (`REQUESTS`) by sampling
without replacement, so a 1 % canary and a 99 % baseline are equally noisy and one calibration
serves both. Gauges stay out: they are per instance, and a canary's one or two instances are no
sample of the fleet (their tests and forecasts judge them).

- Flagged baseline windows (two in a row) mean the environment moved: the judge pauses and
  blames nobody. They are not learned, so an incident does not become normal while it lasts.
- A flagged canary window (while the baseline is normal) means the canary does something the
  service has never shown: the judge holds its weight, even while its tests are inconclusive.

Neither ever rolls back: the anytime-valid tests keep sole charge of rollbacks and of alpha.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sentra_ml.analysis.anomaly import Detection, LearnerConfig, ServiceLearner, interval_features
from sentra_ml.analysis.stats.histogram import quantile_from_cumulative
from sentra_ml.analysis.stats.sampling import hypergeometric, multivariate_hypergeometric
from sentra_ml.analysis.types.labels import Cohort, MetricKind
from sentra_ml.analysis.types.samples import LatencySample, RatioSample, Sample
from sentra_ml.analysis.types.specs import RolloutSpec
from sentra_ml.analysis.types.verdict import AnomalyEvidence

WINDOW_SECONDS = 10.0  # at most one scored window per cohort per this many seconds
REQUESTS = 200  # requests per scored window, both cohorts
MAX_WINDOW_SECONDS = 600.0  # a canary too quiet to fill a window by then is not scored
STICKY_SECONDS = 30.0  # a flag outlives its window: the next windows may fall just short
ENVIRONMENT_WINDOWS = 2  # flagged baseline windows in a row that make an incident
UNLEARNED_SECONDS = 1800.0  # flagged baseline windows are not learned, until a shift lasts this


def service_learner() -> ServiceLearner:
    """A fresh learner for a service's windows: per-feature views only. The joint trees stay
    off: their score wanders for hundreds of windows after a start, and a flag here stops
    learning, so a wandering score would freeze the learner."""
    return ServiceLearner(LearnerConfig(trees=False))


class _Window:
    """What one cohort sent since its window was last cut."""

    def __init__(self, start: float) -> None:
        self.start = start
        self.ratios: dict[str, list[float]] = {}  # metric -> [failed, total]
        self.values: dict[str, list[float]] = {}  # metric -> raw latencies
        self.buckets: dict[str, dict[float, float]] = {}  # metric -> le -> per-bucket count

    def add(self, sample: Sample) -> None:
        m = sample.metric
        if isinstance(sample, RatioSample):
            acc = self.ratios.setdefault(m, [0.0, 0.0])
            acc[0] += sample.failed
            acc[1] += sample.total
        elif isinstance(sample, LatencySample):
            if sample.values:
                self.values.setdefault(m, []).extend(sample.values)
            below = 0.0
            counts = self.buckets.setdefault(m, {}) if sample.buckets else {}
            for le, cumulative in sample.buckets:
                counts[le] = counts.get(le, 0.0) + cumulative - below
                below = cumulative

    @property
    def requests(self) -> float:
        """Requests in the window: the largest count among its ratio and latency metrics."""
        counts = [t for _, t in self.ratios.values()]
        counts += [float(len(v)) for v in self.values.values()]
        counts += [sum(b.values()) for b in self.buckets.values()]
        return max(counts, default=0.0)

    @property
    def empty(self) -> bool:
        return not (self.ratios or self.values or self.buckets)

    def features(
        self, rng: np.random.Generator, n: int, quantiles: dict[str, tuple[float, ...]], ts: float
    ) -> dict[str, float]:
        """Features of the window, each count metric cut to at most `n` requests at random."""
        # exact draws below 1e9 requests; above, n is under 1e-3 of them and a binomial draw is
        # as good (see `hypergeometric`): numpy's sampler refuses such counts
        ratios = {}
        for name, (failed, total) in self.ratios.items():
            f, t = round(failed), round(total)
            if t > n:
                f, t = hypergeometric(rng, f, t - f, n), n
            ratios[name] = (float(f), float(t))
        latency: dict[str, dict[float, float]] = {}
        for name, values in self.values.items():
            arr = np.asarray(values)
            if len(arr) > n:
                arr = rng.choice(arr, n, replace=False)
            latency[name] = {q: float(np.quantile(arr, q)) for q in quantiles.get(name, ())}
        for name, per_bucket in self.buckets.items():
            edges = np.asarray(sorted(per_bucket))
            counts = [round(per_bucket[le]) for le in edges]  # ints of any size: no overflow
            if sum(counts) > n:
                counts = multivariate_hypergeometric(rng, counts, n)
            if sum(counts) > 0:
                cumulative = np.cumsum(np.asarray(counts, dtype=np.float64))
                latency[name] = {
                    q: quantile_from_cumulative(edges, cumulative, q)
                    for q in quantiles.get(name, ())
                }
        return interval_features(ratios=ratios, latency=latency, ts=ts)


@dataclass
class _Flag:
    until: float
    detection: Detection
    value: float | None  # the standing-out feature's value in the window


class ServiceNormal:
    """Cuts both cohorts into windows, scores them with the service's learner, learns baseline."""

    def __init__(self, spec: RolloutSpec, learner: ServiceLearner, seed: int = 0) -> None:
        self.service = spec.service
        self.learner = learner
        self.quantiles = {m.name: m.quantiles for m in spec.metrics if m.kind is MetricKind.LATENCY}
        self.rng = np.random.default_rng(seed)
        self.windows: dict[Cohort, _Window | None] = {c: None for c in Cohort}
        self.last: dict[Cohort, Detection | None] = {c: None for c in Cohort}
        self.flags: dict[Cohort, _Flag | None] = {c: None for c in Cohort}
        self.now = -math.inf
        self.anomalous_since: float | None = None
        self.streak = 0  # flagged baseline windows in a row

    def observe(self, sample: Sample) -> None:
        window = self.windows[sample.cohort]
        if window is None:
            window = self.windows[sample.cohort] = _Window(sample.ts)
        window.add(sample)

    def close(self, now: float) -> None:
        """Score (and for the baseline learn) every window that is full at `now`."""
        self.now = now
        for cohort in (Cohort.BASELINE, Cohort.CANARY):
            window = self.windows[cohort]
            if window is None or window.empty or now - window.start < WINDOW_SECONDS:
                continue
            if window.requests < REQUESTS:
                if now - window.start > MAX_WINDOW_SECONDS:
                    self.windows[cohort] = None  # too quiet to judge; start afresh
                continue
            features = window.features(self.rng, REQUESTS, self.quantiles, now)
            self.windows[cohort] = None
            if not features:
                continue
            detection = self.learner.detect(features, ts=now)
            flagged = detection.p_sustained <= self.learner.config.alarm_rate
            if cohort is Cohort.BASELINE:
                self._learn(features, now, flagged)
                # an incident lasts: two windows in a row, so a lone false alarm pauses nothing
                self.streak = self.streak + 1 if flagged else 0
                flagged = self.streak >= ENVIRONMENT_WINDOWS
            self.last[cohort] = detection
            if flagged:
                value = features.get(detection.feature) if detection.feature else None
                self.flags[cohort] = _Flag(now + STICKY_SECONDS, detection, value)

    def _learn(self, features: dict[str, float], now: float, flagged: bool) -> None:
        """Learn a baseline window, unless it is anomalous: an incident must not become the
        service's normal while it lasts. A shift that outlasts UNLEARNED_SECONDS is learned."""
        if not flagged:
            self.anomalous_since = None
        elif self.anomalous_since is None:
            self.anomalous_since = now
        if self.anomalous_since is None or now - self.anomalous_since >= UNLEARNED_SECONDS:
            self.learner.learn_one(features, ts=now)

    def _active(self, cohort: Cohort) -> _Flag | None:
        flag = self.flags[cohort]
        return flag if flag is not None and flag.until > self.now else None

    def environment(self) -> list[str]:
        """Why the baseline looks unlike the service's normal, if it does."""
        flag = self._active(Cohort.BASELINE)
        if flag is None:
            return []
        return [
            f"{self.service}: baseline unlike its learned normal ({_what(flag)}, "
            f"p = {flag.detection.p_sustained:.1e})"
        ]

    def holds(self) -> list[str]:
        """Why the canary looks unlike anything the service has shown (while the baseline
        does not)."""
        flag = self._active(Cohort.CANARY)
        if flag is None or self._active(Cohort.BASELINE) is not None:
            return []
        return [
            f"canary unlike anything {self.service} has shown ({_what(flag)}, "
            f"p = {flag.detection.p_sustained:.1e}): holding"
        ]

    def evidence(self) -> AnomalyEvidence:
        """The latest scores of both cohorts, as the verdict reports them."""
        base, canary = self.last[Cohort.BASELINE], self.last[Cohort.CANARY]
        return AnomalyEvidence(
            baseline=None if base is None else 1.0 - base.p_sustained,
            canary=None if canary is None else 1.0 - canary.p_sustained,
            baseline_flag=self._active(Cohort.BASELINE) is not None,
            canary_flag=self._active(Cohort.CANARY) is not None,
            learned=self.learner.n,
            warm=self.learner.n >= self.learner.config.warmup,
        )


def _what(flag: _Flag) -> str:
    feature = flag.detection.feature
    if feature is None:
        return "features jointly"
    value = "" if flag.value is None else f" = {_readable(feature, flag.value)}"
    return f"{feature}{value}"


def _readable(feature: str, value: float) -> str:
    if feature.endswith(".log"):
        return f"{math.expm1(value):.4g}"
    if feature.endswith(".ratio"):
        return f"{value * 100:.2f} %"
    return f"{value:.4g}"
