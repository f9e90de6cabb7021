"""Value types of the analysis core: plain data (frozen dataclasses and StrEnums) that adapters,
the service and the controller share without importing any behaviour.

Each concept lives in its own module (`labels`, `errors`, `specs`, `samples`, `verdict`); Sentra's
own code imports from those. The names are re-exported here for code outside Sentra.
"""

from sentra_ml.analysis.types.errors import SampleError, SpecError
from sentra_ml.analysis.types.labels import Action, Cohort, Direction, MetricKind, MetricStatus
from sentra_ml.analysis.types.samples import (
    MAX_MAGNITUDE,
    GaugeSample,
    LatencySample,
    RatioSample,
    Sample,
)
from sentra_ml.analysis.types.specs import SLO, MetricSpec, RolloutSpec, StepPolicy
from sentra_ml.analysis.types.verdict import AnomalyEvidence, Interval, MetricEvidence, Verdict

__all__ = [
    "MAX_MAGNITUDE",
    "SLO",
    "Action",
    "AnomalyEvidence",
    "Cohort",
    "Direction",
    "GaugeSample",
    "Interval",
    "LatencySample",
    "MetricEvidence",
    "MetricKind",
    "MetricSpec",
    "MetricStatus",
    "RatioSample",
    "RolloutSpec",
    "Sample",
    "SampleError",
    "SpecError",
    "StepPolicy",
    "Verdict",
]
