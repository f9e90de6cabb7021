"""What a service's past rollouts say about it: how much traffic its canaries get at each weight,
its error ratio and latency, which metrics were noisy, and how long its healthy canaries took."""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sentra_ml.analysis.judge.steps import HOLD_RISK
from sentra_training.rollout_history import PastRollout, quantile_of
from sentra_training.series import InputError

# a metric is noisy when the judge named it (risk >= HOLD_RISK / 2, see `policy.decide`) in at
# least this share of the service's rollouts that turned out healthy
NOISY_SHARE = 0.25


@dataclass(frozen=True)
class TrafficProfile:
    """The service as its past rollouts showed it."""

    rollouts: int
    promoted: int
    total_rps: float  # both cohorts together
    canary_rps: dict[float, float]  # weight (percent) -> median canary requests/s at it
    error_ratio: float  # the baseline's, pooled
    latency: float | None  # median of the baseline's latency series (its quantile, `quantile`)
    quantile: float | None
    noisy: dict[str, float] = field(default_factory=dict)  # metric -> share of healthy ones
    promote_seconds: float = math.inf  # median time to promotion of the healthy ones

    def to_dict(self) -> dict[str, Any]:
        return {
            "rollouts": self.rollouts,
            "promoted": self.promoted,
            "total_rps": round(self.total_rps, 3),
            "canary_rps": {f"{w:g}": round(r, 3) for w, r in sorted(self.canary_rps.items())},
            "error_ratio": round(self.error_ratio, 6),
            "latency": None if self.latency is None else round(self.latency, 4),
            "quantile": self.quantile,
            "noisy": {m: round(s, 3) for m, s in sorted(self.noisy.items())},
            "promote_seconds": round(self.promote_seconds, 1),  # finite: promoted ones exist
        }

    def noisy_metrics(self) -> list[str]:
        return sorted(m for m, share in self.noisy.items() if share >= NOISY_SHARE)


def traffic_profile(past: Sequence[PastRollout], minimum: int = 3) -> TrafficProfile:
    """The profile of `past`; InputError when fewer than `minimum` healthy (promoted) rollouts
    with request counts are recorded."""
    healthy = [r for r in past if r.promoted and r.intervals]
    if len(healthy) < minimum:
        raise InputError(
            f"rollouts: {len(healthy)} promoted rollouts with request counts in the audit "
            f"database; learning a step policy needs at least {minimum}"
        )
    totals, per_weight = [], defaultdict(list)
    requests = failed = 0.0
    for r in past:
        for i in r.intervals:
            if i.seconds <= 0:
                continue
            totals.append((i.canary + i.baseline) / i.seconds)
            if i.weight > 0:
                per_weight[i.weight].append(i.canary / i.seconds)
            requests += i.baseline
            failed += i.baseline_failed
    latencies = [v for r in past for v in r.baseline_latency]
    noisy: dict[str, float] = {}
    for metric in {m.name for r in healthy for m in r.spec.metrics}:
        named = sum(r.peak_risk.get(metric, 0.0) >= HOLD_RISK / 2 for r in healthy)
        noisy[metric] = named / len(healthy)
    return TrafficProfile(
        rollouts=len(past),
        promoted=len(healthy),
        total_rps=statistics.median(totals),
        canary_rps={w: statistics.median(rs) for w, rs in per_weight.items()},
        error_ratio=failed / requests if requests > 0 else 0.0,
        latency=statistics.median(latencies) if latencies else None,
        quantile=quantile_of(healthy[-1].spec),
        noisy=noisy,
        promote_seconds=statistics.median(r.seconds for r in healthy),
    )
