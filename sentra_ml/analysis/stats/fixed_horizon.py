"""What the fixed-horizon two-sample tests share: their result and their input checks.

These tests are valid once, at a sample size fixed in advance; looking repeatedly and stopping
at the first significant result inflates their error rate. They are here to reproduce what a
Kayenta canary analysis would conclude from the same data, next to the anytime-valid tests. One
module per family: `mann_whitney` (Hodges-Lehmann shift and Moses' interval),
`kolmogorov_smirnov`, `proportions` (Fisher's exact test, the two-proportion z test); Kayenta's
classifier on top of Mann-Whitney is in `incumbents.kayenta_classifier`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
Alternative = Literal["two-sided", "greater", "less"]
Values = Sequence[float] | FloatArray


@dataclass(frozen=True)
class FixedHorizonResult:
    """One fixed-horizon test: its statistic and p-value, an effect estimate and its interval."""

    statistic: float
    p_value: float
    estimate: float
    low: float
    high: float
    method: str


def finite_values(values: Values, name: str) -> FloatArray:
    """`values` as a flat float array; ValueError naming `name` when empty or not finite."""
    arr = np.array(values, dtype=np.float64).ravel()
    if arr.size == 0:
        raise ValueError(f"{name}: no values")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name}: values must be finite")
    return arr


def check_confidence(confidence: float) -> None:
    """ValueError unless `confidence` is in (0, 1)."""
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
