"""What the judge concludes: intervals, per-metric and anomaly evidence, and the verdict itself."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from sentra_ml.analysis.types.labels import Action, MetricStatus


@dataclass(frozen=True)
class Interval:
    """A point estimate with its confidence interval, as a relative change (0.38 = +38 %)."""

    estimate: float
    low: float
    high: float


@dataclass(frozen=True)
class MetricEvidence:
    """What the judge concluded about one metric, with the numbers behind it."""

    metric: str
    status: MetricStatus
    effect: Interval | None
    e_value: float
    risk: float
    summary: str
    details: Mapping[str, float | str] = field(default_factory=dict)
    harm: float = math.inf


@dataclass(frozen=True)
class AnomalyEvidence:
    """The service learner's latest scores (1 - p-value) of each cohort's last full window."""

    baseline: float | None
    canary: float | None
    baseline_flag: bool  # the baseline is unlike the service's normal: the environment moved
    canary_flag: bool  # the canary is unlike anything the service has shown
    learned: int  # baseline windows the learner has learned, over all rollouts of the service
    warm: bool  # enough of them to score at all

    def to_dict(self) -> dict[str, object]:
        return {
            "baseline": None if self.baseline is None else round(self.baseline, 6),
            "canary": None if self.canary is None else round(self.canary, 6),
            "baseline_flag": self.baseline_flag,
            "canary_flag": self.canary_flag,
            "learned": self.learned,
            "warm": self.warm,
        }


@dataclass(frozen=True)
class Verdict:
    """One evaluation: the action, how risky the canary looks, and why."""

    ts: float
    action: Action
    risk: float
    weight: float
    current_weight: float
    score: float | None  # None until some metric has data: nothing to score yet
    reasons: Sequence[str]
    evidence: Sequence[MetricEvidence]
    anomaly: AnomalyEvidence | None = None  # None when the judge has no service learner
    # The judge keeps the weight where it is on the evidence (or its absence), not merely to
    # pace its steps: a gate must refuse more traffic while this is true.
    hold: bool = False

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready dict; unbounded interval ends and infinite e-values become null."""
        return {
            "ts": self.ts,
            "action": str(self.action),
            "risk": round(self.risk, 4),
            "weight": self.weight,
            "current_weight": self.current_weight,
            "score": None if self.score is None else round(self.score, 1),
            "hold": self.hold,
            "reasons": list(self.reasons),
            "evidence": [
                {
                    "metric": e.metric,
                    "status": str(e.status),
                    "effect": None
                    if e.effect is None
                    else {
                        "estimate": _finite(e.effect.estimate),
                        "low": _finite(e.effect.low),
                        "high": _finite(e.effect.high),
                    },
                    "e_value": _finite(e.e_value),
                    "risk": round(e.risk, 4),
                    "summary": e.summary,
                    "details": {
                        k: _finite(v) if isinstance(v, float) else v for k, v in e.details.items()
                    },
                }
                for e in self.evidence
            ],
            "anomaly": None if self.anomaly is None else self.anomaly.to_dict(),
        }


def _finite(x: float) -> float | None:
    return round(x, 6) if math.isfinite(x) else None
