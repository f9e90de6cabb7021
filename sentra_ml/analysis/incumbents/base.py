"""What every incumbent decision rule shares: the protocol, a sample log, latency merging, steps.

A rule keeps its own step state as if its advice were followed: it starts at its first weight,
acts only on its own schedule (`_next_due` / `_act`), returns CONTINUE at the current weight in
between, and once it has rolled back (weight 0), promoted (weight 100) or paused, says so forever.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from sentra_ml.analysis.stats.histogram import quantile_from_cumulative
from sentra_ml.analysis.types.labels import Action, Cohort
from sentra_ml.analysis.types.samples import LatencySample, RatioSample, Sample
from sentra_ml.analysis.types.verdict import MetricEvidence, Verdict

FloatArray = NDArray[np.float64]

# A check due at t runs when evaluate(now) is called with now >= t - _EPS (clock round-off).
_EPS = 1e-6


class DecisionRule(Protocol):
    """The shape of every rule the benchmark drives (Sentra's own judge has it too)."""

    name: str

    def observe(self, sample: Sample) -> None: ...

    def evaluate(self, now: float) -> Verdict: ...


@dataclass(frozen=True)
class LatencyDistribution:
    """Latency of one cohort over a window: raw values (exact quantiles) or cumulative buckets."""

    values: FloatArray | None = None
    edges: FloatArray | None = None
    cumulative: FloatArray | None = None

    @property
    def count(self) -> float:
        if self.values is not None:
            return float(self.values.size)
        return float(self.cumulative[-1]) if self.cumulative is not None else 0.0

    def quantile(self, p: float) -> float:
        """Exact for raw values; for buckets, linear within the bucket as Prometheus'
        `histogram_quantile` does (the +Inf bucket answers its lower bound)."""
        if self.values is not None:
            return float(np.quantile(self.values, p)) if self.values.size else math.nan
        assert self.edges is not None and self.cumulative is not None
        return quantile_from_cumulative(self.edges, self.cumulative, p)

    def mean(self) -> float:
        """Exact for raw values; for buckets, bucket midpoints (+Inf bucket: its lower end)."""
        if self.values is not None:
            return float(self.values.mean()) if self.values.size else math.nan
        assert self.edges is not None and self.cumulative is not None
        total = float(self.cumulative[-1])
        if total <= 0:
            return math.nan
        counts = np.diff(self.cumulative, prepend=0.0)
        lower = np.concatenate(([0.0], self.edges[:-1]))
        upper = np.where(np.isinf(self.edges), lower, self.edges)
        return float(((lower + upper) / 2 * counts).sum() / total)


def merge_latency(samples: Iterable[LatencySample]) -> LatencyDistribution | None:
    """Merge the samples of a window; None when they hold no requests.

    Raw values stay raw while no sample is bucketed. Otherwise everything is put on the union of
    the bucket bounds: a bucketed sample is interpolated linearly within its own buckets (exact
    when the bounds agree, which is the usual case), raw values are counted into the buckets.
    """
    items = list(samples)
    bucketed = [s for s in items if s.buckets]
    raw = [v for s in items if not s.buckets for v in s.values]
    if not bucketed:
        return LatencyDistribution(values=np.asarray(raw, dtype=np.float64)) if raw else None
    edges = np.unique(np.array([le for s in bucketed for le, _ in s.buckets], dtype=np.float64))
    total = np.zeros(len(edges), dtype=np.float64)
    for s in bucketed:
        own_edges = np.array([le for le, _ in s.buckets], dtype=np.float64)
        own_cum = np.array([c for _, c in s.buckets], dtype=np.float64)
        total += cumulative_count(own_edges, own_cum, edges)
    if raw:
        idx = np.searchsorted(edges, np.asarray(raw, dtype=np.float64), side="left")
        total += np.cumsum(np.bincount(idx, minlength=len(edges))[: len(edges)])
    if total[-1] <= 0:
        return None
    return LatencyDistribution(edges=edges, cumulative=total)


def cumulative_count(
    edges: FloatArray, cumulative: FloatArray, x: float | FloatArray
) -> FloatArray:
    """Requests <= x from cumulative bucket counts, linear within a bucket (the first from 0);
    exact at every bound, and all of them beyond the last finite bound."""
    xs = np.atleast_1d(np.asarray(x, dtype=np.float64))
    if len(edges) < 2:
        return np.full_like(xs, float(cumulative[-1]) if len(cumulative) else 0.0)
    lower = np.concatenate(([0.0], edges[:-1]))
    cum = np.concatenate(([0.0], cumulative[:-1]))
    out = np.interp(xs, lower, cum)
    return np.asarray(np.where(xs > edges[-2], cumulative[-1], out), dtype=np.float64)


def latency_quantile(samples: Iterable[LatencySample], p: float) -> float:
    """The p-quantile of the merged samples (nan when they hold no requests)."""
    merged = merge_latency(samples)
    return math.nan if merged is None else merged.quantile(p)


class SampleLog:
    """Samples per (metric, cohort), ordered by `ts`, queried by windows `(lo, hi]`."""

    def __init__(self) -> None:
        self._ts: dict[tuple[str, Cohort], list[float]] = {}
        self._samples: dict[tuple[str, Cohort], list[Sample]] = {}

    def add(self, sample: Sample) -> None:
        key = (sample.metric, sample.cohort)
        ts = self._ts.setdefault(key, [])
        i = bisect.bisect_right(ts, sample.ts)
        ts.insert(i, sample.ts)
        self._samples.setdefault(key, []).insert(i, sample)

    def window(self, metric: str, cohort: Cohort, lo: float, hi: float) -> Sequence[Sample]:
        ts = self._ts.get((metric, cohort), [])
        i, j = bisect.bisect_right(ts, lo), bisect.bisect_right(ts, hi)
        return self._samples.get((metric, cohort), [])[i:j]

    def ratio(self, metric: str, cohort: Cohort, lo: float, hi: float) -> tuple[float, float, int]:
        """(total, failed, number of samples) of the ratio samples in `(lo, hi]`."""
        found = [s for s in self.window(metric, cohort, lo, hi) if isinstance(s, RatioSample)]
        return sum(s.total for s in found), sum(s.failed for s in found), len(found)

    def latency(
        self, metric: str, cohort: Cohort, lo: float, hi: float
    ) -> LatencyDistribution | None:
        found = self.window(metric, cohort, lo, hi)
        return merge_latency(s for s in found if isinstance(s, LatencySample))


class StepRule:
    """Common state machine: a weight, a schedule of checks, and sticky terminal states."""

    name = "rule"
    title = "Rule"  # how reasons name the rule

    def __init__(self, first_weight: float, start: float, metrics: Iterable[str]) -> None:
        self.start = start
        self.weight = float(first_weight)
        self.final: Action | None = None
        self.decided_at: float | None = None
        self.log = SampleLog()
        self.risk = 0.0
        self.score = 100.0
        self._metrics = frozenset(metrics)
        self._applied = self.weight
        self._reasons: tuple[str, ...] = ()
        self._evidence: tuple[MetricEvidence, ...] = ()

    def observe(self, sample: Sample) -> None:
        """Keep samples of the metrics this rule reads; others are ignored."""
        if sample.metric in self._metrics:
            self.log.add(sample)

    def evaluate(self, now: float) -> Verdict:
        acted = False
        while self.final is None and self._next_due() <= now + _EPS:
            self._act(self._next_due())
            acted = True
        reasons = self._reasons
        if not acted and self.final is None:
            wait = f"{self.title}: next check in {max(0.0, self._next_due() - now):.0f} s"
            reasons = (wait, *reasons)
        verdict = Verdict(
            ts=now,
            action=self.final or Action.CONTINUE,
            risk=self.risk,
            weight=self.weight,
            current_weight=self._applied,
            score=self.score,
            reasons=reasons,
            evidence=self._evidence,
        )
        self._applied = self.weight
        return verdict

    # -- for subclasses ----------------------------------------------------------------------

    def _next_due(self) -> float:
        raise NotImplementedError

    def _act(self, t: float) -> None:
        raise NotImplementedError

    def _finish(self, action: Action, t: float) -> None:
        self.final = action
        self.decided_at = t
        if action is Action.ROLLBACK:
            self.weight = 0.0
        elif action is Action.PROMOTE:
            self.weight = 100.0

    def _record(self, reasons: Sequence[str], evidence: Sequence[MetricEvidence] = ()) -> None:
        self._reasons = tuple(reasons)
        if evidence:
            self._evidence = tuple(evidence)
