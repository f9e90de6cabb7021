"""Closed sets of the analysis core: cohorts, metric kinds, directions, actions, metric outcomes."""

from __future__ import annotations

from enum import StrEnum


class Cohort(StrEnum):
    BASELINE = "baseline"
    CANARY = "canary"


class MetricKind(StrEnum):
    RATIO = "ratio"
    LATENCY = "latency"
    GAUGE = "gauge"


class Direction(StrEnum):
    """Which change of the metric is bad."""

    INCREASE = "increase"
    DECREASE = "decrease"
    EITHER = "either"


class Action(StrEnum):
    PROMOTE = "promote"
    CONTINUE = "continue"
    PAUSE = "pause"
    ROLLBACK = "rollback"


class MetricStatus(StrEnum):
    """Closed set of per-metric outcomes; "no data" is a label, not an exception."""

    REGRESSION = "regression"
    SAFE = "safe"
    INCONCLUSIVE = "inconclusive"
    NO_DATA = "no_data"
    STALE = "stale"
    ENVIRONMENT = "environment"
