"""Per-service online anomaly learning: features, trackers, calibration, the learner."""

from sentra_ml.analysis.anomaly.calibration import TailCalibrator
from sentra_ml.analysis.anomaly.features import interval_features
from sentra_ml.analysis.anomaly.learner import Detection, LearnerConfig, ServiceLearner
from sentra_ml.analysis.anomaly.tracker import FeatureTracker

__all__ = [
    "Detection",
    "FeatureTracker",
    "LearnerConfig",
    "ServiceLearner",
    "TailCalibrator",
    "interval_features",
]
