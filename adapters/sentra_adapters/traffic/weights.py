"""Cohort weights in percent: checked before any backend call, and mapped to backend integers."""

from __future__ import annotations

import math
from collections.abc import Mapping
from fractions import Fraction

from sentra_adapters.errors import Conflict, Rejected
from sentra_ml.analysis.types.labels import Cohort

Weights = dict[Cohort, float]
"""Percent of requests per cohort: each in [0, 100], together 100."""

_COHORTS = (Cohort.BASELINE, Cohort.CANARY)


def check_weights(backend: str, weights: Mapping[str, float]) -> Weights:
    """`weights` keyed by cohort, validated; raises Rejected naming `backend` and the problem.

    >>> check_weights("nginx", {"baseline": 95, "canary": 5})
    {<Cohort.BASELINE: 'baseline'>: 95.0, <Cohort.CANARY: 'canary'>: 5.0}
    """
    unknown = sorted(set(map(str, weights)) - set(_COHORTS))
    if unknown:
        raise Rejected(backend, f"weights: unknown cohort(s) {unknown}")
    checked: Weights = {}
    for cohort in _COHORTS:
        if cohort not in weights:
            raise Rejected(backend, f"weights: missing the {cohort} weight")
        value = weights[cohort]
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            raise Rejected(backend, f"weights: {cohort}={value!r} is not a finite number")
        if not 0 <= value <= 100:
            raise Rejected(backend, f"weights: {cohort}={value} is not in [0, 100]")
        checked[cohort] = float(value)
    total = sum(checked.values())
    if abs(total - 100.0) > 1e-9:
        raise Rejected(backend, f"weights: must sum to 100, got {total:g}")
    return checked


def integer_weights(backend: str, weights: Weights, scale: int) -> dict[Cohort, int]:
    """Integer backend weights summing to `scale`, reduced by their gcd; Rejected when a weight
    is finer than the backend's resolution (`100 / scale` percent), rather than rounded silently.

    >>> integer_weights("haproxy", {Cohort.BASELINE: 90.0, Cohort.CANARY: 10.0}, 200)
    {<Cohort.BASELINE: 'baseline'>: 9, <Cohort.CANARY: 'canary'>: 1}
    """
    exact = {c: Fraction(w).limit_denominator(10**6) * scale / 100 for c, w in weights.items()}
    coarse = [f"{c}={weights[c]:g}" for c, v in exact.items() if v.denominator != 1]
    if coarse:
        raise Rejected(
            backend, f"weights: {', '.join(coarse)} is finer than the {100 / scale:g} % resolution"
        )
    ints = {c: int(v) for c, v in exact.items()}
    divisor = math.gcd(*ints.values())
    return {c: v // divisor for c, v in ints.items()}


def percent(backend: str, ints: Mapping[Cohort, float]) -> Weights:
    """Backend weights back to percent; all-zero weights (never set by Sentra) raise Conflict."""
    total = sum(ints.values())
    if total <= 0:
        raise Conflict(backend, "no cohort has a positive weight: the service takes no traffic")
    return {c: 100.0 * ints[c] / total for c in _COHORTS}


def same_split(
    held: Mapping[Cohort, float], wanted: Mapping[Cohort, float], resolution: float
) -> bool:
    """Whether `held` is `wanted` within half the backend's resolution, cohort by cohort."""
    return all(abs(held[c] - wanted[c]) <= resolution / 2 for c in wanted)
