"""The judge: per-metric evidence combined into a verdict."""

from sentra_ml.analysis.judge.judge import RolloutJudge

__all__ = ["RolloutJudge"]
