"""Per-metric evidence: streaming analyzers that turn samples into tests, effects and labels."""

from sentra_ml.analysis.evidence.base import MetricAnalyzer, alpha_share, metric_alphas
from sentra_ml.analysis.evidence.registry import ANALYZERS, make_analyzer

__all__ = ["ANALYZERS", "MetricAnalyzer", "alpha_share", "make_analyzer", "metric_alphas"]
