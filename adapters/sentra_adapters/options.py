"""Checks of the constructor options that routers and sources share (both adapter families
import this module, never each other); each raises Misconfigured naming the backend and the
option."""

from __future__ import annotations

from collections.abc import Mapping

from sentra_adapters.errors import Misconfigured
from sentra_ml.analysis.types.labels import Cohort

_COHORTS = (Cohort.BASELINE, Cohort.CANARY)


def cohort_names(backend: str, names: Mapping[str, str], what: str) -> dict[Cohort, str]:
    """A backend name (server, cluster...) per cohort; both cohorts required, nothing else."""
    unknown = sorted(set(names) - set(_COHORTS))
    missing = [str(c) for c in _COHORTS if c not in names]
    if unknown or missing:
        raise Misconfigured(
            backend,
            f"{what}: need exactly baseline and canary, missing {missing}, unknown {unknown}",
        )
    return {c: names[c] for c in _COHORTS}


def distinct_cohort_names(backend: str, names: Mapping[str, str], what: str) -> dict[Cohort, str]:
    """A backend name per cohort, as `cohort_names`, where baseline and canary differ (one
    object behind both would make every split a no-op)."""
    checked = cohort_names(backend, names, what)
    if len(set(checked.values())) != len(checked):
        raise Misconfigured(backend, f"{what}: baseline and canary must differ")
    return checked


def check_attempts(backend: str, attempts: int) -> int:
    """`attempts`, the bound on optimistic-concurrency retries, when it is at least 1."""
    if attempts < 1:
        raise Misconfigured(backend, f"attempts: must be >= 1, got {attempts}")
    return attempts
