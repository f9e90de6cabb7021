"""Helpers of the simulator tests: run a scenario, then pick samples by cohort and time window."""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from sentra_ml.analysis.types.labels import Cohort
from sentra_ml.analysis.types.samples import GaugeSample, LatencySample, RatioSample, Sample
from sentra_ml.simulate import Scenario, Simulator

DT = 2.0
BASE, CANARY = Cohort.BASELINE, Cohort.CANARY


def run(
    scenario: Scenario, seed: int = 7, duration: float = 600.0, weight: float = 50.0
) -> tuple[Simulator, list[Sample]]:
    sim = Simulator(scenario, seed)
    return sim, sim.run(duration, DT, weight)


def _window(s: Sample, cohort: Cohort, lo: float, hi: float) -> bool:
    return s.cohort is cohort and lo < s.ts <= hi


def counts(
    samples: list[Sample], cohort: Cohort, lo: float = -math.inf, hi: float = math.inf
) -> tuple[float, float]:
    """(failed, total) of a cohort's requests in the samples stamped within (lo, hi]."""
    picked = [s for s in samples if isinstance(s, RatioSample) and _window(s, cohort, lo, hi)]
    return sum(s.failed for s in picked), sum(s.total for s in picked)


def error_ratio(
    samples: list[Sample], cohort: Cohort, lo: float = -math.inf, hi: float = math.inf
) -> float:
    failed, total = counts(samples, cohort, lo, hi)
    return failed / total


def latencies(
    samples: list[Sample], cohort: Cohort, lo: float = -math.inf, hi: float = math.inf
) -> NDArray[np.float64]:
    picked = [s for s in samples if isinstance(s, LatencySample) and _window(s, cohort, lo, hi)]
    return np.concatenate([np.asarray(s.values) for s in picked])


def quantile(
    samples: list[Sample], cohort: Cohort, q: float, lo: float = -math.inf, hi: float = math.inf
) -> float:
    return float(np.quantile(latencies(samples, cohort, lo, hi), q))


def gauge(
    samples: list[Sample],
    cohort: Cohort,
    metric: str,
    lo: float = -math.inf,
    hi: float = math.inf,
) -> NDArray[np.float64]:
    return np.array(
        [
            s.value
            for s in samples
            if isinstance(s, GaugeSample) and s.metric == metric and _window(s, cohort, lo, hi)
        ]
    )
