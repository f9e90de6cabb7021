"""Faithful re-implementations of the incumbents' canary decision rules, for the benchmark.

Each rule has the shape of Sentra's own judge (`DecisionRule`: `observe(sample)`,
`evaluate(now) -> Verdict`) and keeps its own step state as if its advice were followed.
"""

from sentra_ml.analysis.incumbents.argo import ArgoRollouts
from sentra_ml.analysis.incumbents.base import (
    DecisionRule,
    LatencyDistribution,
    SampleLog,
    StepRule,
    latency_quantile,
    merge_latency,
)
from sentra_ml.analysis.incumbents.flagger import Flagger
from sentra_ml.analysis.incumbents.kayenta import Kayenta
from sentra_ml.analysis.incumbents.oracle import OracleSPRT

__all__ = [
    "ArgoRollouts",
    "DecisionRule",
    "Flagger",
    "Kayenta",
    "LatencyDistribution",
    "OracleSPRT",
    "SampleLog",
    "StepRule",
    "latency_quantile",
    "merge_latency",
]
