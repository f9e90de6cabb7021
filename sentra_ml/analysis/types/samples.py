"""Telemetry samples: one cohort's ratio counts, latency distribution or gauge reading at a time.

Each sample checks itself on construction and raises `SampleError` naming the field.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sentra_ml.analysis.types.errors import SampleError
from sentra_ml.analysis.types.labels import Cohort

# The largest magnitude of any count, value or bucket bound a sample carries. Far beyond any real
# reading (2^53 is the largest integer a float holds exactly), and small enough that the sums over
# any rollout and their squares (variances) stay finite in float64.
MAX_MAGNITUDE = 1e100


@dataclass(frozen=True)
class RatioSample:
    """Request counts of one cohort over one interval ending at `ts` (seconds)."""

    ts: float
    cohort: Cohort
    metric: str
    total: float
    failed: float

    def __post_init__(self) -> None:
        _check_finite(self, "ts", "total", "failed")
        _check_magnitude(self, "total", "failed")
        if self.total < 0:
            raise SampleError(f"total: must be >= 0, got {self.total}")
        if self.failed < 0:
            raise SampleError(f"failed: must be >= 0, got {self.failed}")
        if self.failed > self.total:
            raise SampleError(f"failed: {self.failed} exceeds total {self.total}")


@dataclass(frozen=True)
class LatencySample:
    """A latency distribution of one cohort over one interval: raw values or cumulative buckets.

    `buckets` maps upper bounds (Prometheus `le`, `math.inf` for `+Inf`) to cumulative counts.
    """

    ts: float
    cohort: Cohort
    metric: str
    values: tuple[float, ...] = ()
    buckets: tuple[tuple[float, float], ...] = ()

    def __post_init__(self) -> None:
        _check_finite(self, "ts")
        if self.values and self.buckets:
            raise SampleError("values, buckets: give one of them, not both")
        if self.values:
            arr = np.asarray(self.values, dtype=np.float64)
            bad = ~(np.isfinite(arr) & (arr >= 0) & (arr <= MAX_MAGNITUDE))
            if bad.any():
                v = arr[int(np.argmax(bad))]
                raise SampleError(f"values: {v} is not a finite number in [0, {MAX_MAGNITUDE:g}]")
        previous_le, previous_count = -math.inf, 0.0
        for le, count in self.buckets:
            if math.isnan(le) or le <= previous_le:
                raise SampleError("buckets: upper bounds must be numbers in increasing order")
            if not math.isinf(le) and abs(le) > MAX_MAGNITUDE:
                raise SampleError(f"buckets: bound {le} is beyond {MAX_MAGNITUDE:g}")
            if not math.isfinite(count) or count < previous_count:
                raise SampleError(f"buckets: counts must be cumulative, got {count} at le={le}")
            if count > MAX_MAGNITUDE:
                raise SampleError(f"buckets: count {count} at le={le} is beyond {MAX_MAGNITUDE:g}")
            previous_le, previous_count = le, count
        if self.buckets and not math.isinf(self.buckets[-1][0]):
            raise SampleError("buckets: the last bucket must be +Inf")

    @property
    def count(self) -> float:
        return (
            float(len(self.values))
            if self.values
            else (self.buckets[-1][1] if self.buckets else 0.0)
        )


@dataclass(frozen=True)
class GaugeSample:
    """One reading of one instance (or the cohort mean when `instance` is empty)."""

    ts: float
    cohort: Cohort
    metric: str
    value: float
    instance: str = ""

    def __post_init__(self) -> None:
        _check_finite(self, "ts", "value")
        _check_magnitude(self, "value")


Sample = RatioSample | LatencySample | GaugeSample


def _check_finite(obj: object, *names: str) -> None:
    for name in names:
        value = getattr(obj, name)
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            raise SampleError(f"{name}: must be a finite number, got {value!r}")


def _check_magnitude(obj: object, *names: str) -> None:
    for name in names:
        value = getattr(obj, name)
        if abs(value) > MAX_MAGNITUDE:
            raise SampleError(
                f"{name}: must be at most {MAX_MAGNITUDE:g} in magnitude, got {value}"
            )
