"""Per-metric evidence: streaming analyzers that turn samples into tests, effects and labels."""

from sentra_ml.analysis.evidence.base import MetricAnalyzer, count_tests, make_analyzer

__all__ = ["MetricAnalyzer", "count_tests", "make_analyzer"]
