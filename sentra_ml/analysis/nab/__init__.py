"""NAB (Numenta Anomaly Benchmark) scoring and window-level detection metrics."""

from sentra_ml.analysis.nab.crossval import Fold, category, cross_validate
from sentra_ml.analysis.nab.metrics import DetectionCounts, count_detections, total
from sentra_ml.analysis.nab.profiles import PROFILES, CostProfile
from sentra_ml.analysis.nab.scoring import (
    PointWeights,
    Sweep,
    fixed_score,
    point_weights,
    probation_length,
    raw_score,
    scaled_sigmoid,
    sweep,
)

__all__ = [
    "PROFILES",
    "CostProfile",
    "DetectionCounts",
    "Fold",
    "PointWeights",
    "Sweep",
    "category",
    "count_detections",
    "cross_validate",
    "fixed_score",
    "point_weights",
    "probation_length",
    "raw_score",
    "scaled_sigmoid",
    "sweep",
    "total",
]
