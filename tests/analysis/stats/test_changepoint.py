"""The change-point e-detectors: weights that sum to at most 1, a false-alarm rate within alpha
over streams as long as the horizon (at the worst null, the edge of tolerance), and a late onset
found much sooner than by the cumulative test."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sentra_ml.analysis.stats.changepoint import (
    BinomialDetector,
    MeanDetector,
    OddsRatioDetector,
    RestartMixture,
    RestartWeights,
)
from sentra_ml.analysis.stats.meanshift import SelfNormalizedMeanTest
from sentra_ml.analysis.stats.oddsratio import ConditionalOddsRatioTest

TOLERANCE = math.log(1.2)


def test_weights_give_half_at_once_and_the_rest_over_the_horizon() -> None:
    weights = RestartWeights(horizon=100.0)
    given = [weights.next(t) for t in np.arange(0.0, 300.0, 2.0)]
    assert given[0] == 0.5
    assert sum(given) == pytest.approx(1.0)
    assert given[1] == pytest.approx(0.5 * 2.0 / 100.0)
    assert all(w == 0.0 for w in given[52:])  # nothing after the horizon


def test_the_mixture_refuses_weights_beyond_one() -> None:
    mixture = RestartMixture(np.zeros(3))
    mixture.update(np.zeros(3), 0.7)
    with pytest.raises(ValueError, match="at most 1"):
        mixture.update(np.zeros(3), 0.4)


def _odds_stream(
    rng: np.random.Generator, psi: list[float], n: int = 40, m: int = 800, p: float = 0.02
) -> list[tuple[int, int, int, int]]:
    """2x2 tables with baseline rate p and the canary's odds `psi[t]` times the baseline's."""
    tables = []
    for ratio in psi:
        odds = ratio * p / (1 - p)
        q = odds / (1 + odds)
        tables.append((int(rng.binomial(n, q)), n, int(rng.binomial(m, p)), m))
    return tables


def _odds_run(seed: int, psi: list[float], alpha: float) -> tuple[float, float]:
    """(first table index the detector alarms at, the cumulative test's); inf when never."""
    rng = np.random.default_rng(seed)
    test = ConditionalOddsRatioTest(nulls=(0.0, TOLERANCE))
    detector = OddsRatioDetector(test, TOLERANCE, +1, horizon=len(psi) * 2.0)
    threshold = math.log(1 / alpha)
    found, cumulative = math.inf, math.inf
    for i, table in enumerate(_odds_stream(rng, psi)):
        detector.update(test.update(*table), 2.0 * i)
        if found == math.inf and detector.log_e() >= threshold:
            found = i
        if cumulative == math.inf and test.log_e_above(TOLERANCE) >= threshold:
            cumulative = i
    return found, cumulative


def test_odds_ratio_detector_false_alarms_stay_within_alpha_at_the_edge_of_tolerance() -> None:
    alpha, runs = 0.1, 150
    alarms = sum(_odds_run(seed, [1.2] * 150, alpha)[0] < math.inf for seed in range(runs))
    # binomial(150, 0.1) exceeds 24 with probability < 1 %; a broken detector alarms far more
    assert alarms <= 24


def test_odds_ratio_detector_finds_a_late_onset_much_sooner_than_the_cumulative_test() -> None:
    psi = [1.0] * 300 + [3.0] * 300  # onset at table 300
    runs = [_odds_run(seed, psi, 0.003) for seed in range(10)]
    found = sorted(r[0] - 300 for r in runs)
    cumulative = sorted(r[1] - 300 for r in runs)
    assert all(0 <= d < math.inf for d in found)
    assert found[5] < 0.6 * cumulative[5]


def _mean_run(seed: int, shift_at: int, length: int, alpha: float) -> tuple[float, float]:
    rng = np.random.default_rng(seed)
    test = SelfNormalizedMeanTest()
    detector = MeanDetector(test, horizon=length * 2.0)
    threshold = math.log(1 / alpha)
    found, cumulative = math.inf, math.inf
    noise = rng.standard_t(3, size=length)  # heavy tails, symmetric about 0 (the null's edge)
    for i, e in enumerate(noise):
        d = float(e + (1.5 if i >= shift_at else 0.0))
        detector.update(d, 2.0 * i)
        test.update(d)
        if found == math.inf and detector.log_e() >= threshold:
            found = i
        if cumulative == math.inf and test.log_e_above(0.0) >= threshold:
            cumulative = i
    return found, cumulative


def test_mean_detector_false_alarms_stay_within_alpha_on_heavy_tails() -> None:
    alarms = sum(_mean_run(seed, 10**9, 300, 0.1)[0] < math.inf for seed in range(200))
    assert alarms <= 30  # binomial(200, 0.1) exceeds 30 with probability < 1 %


def test_mean_detector_finds_a_late_onset_much_sooner_than_the_cumulative_test() -> None:
    runs = [_mean_run(seed, 300, 600, 0.003) for seed in range(10)]
    found = sorted(r[0] - 300 for r in runs)
    cumulative = sorted(r[1] - 300 for r in runs)
    assert all(0 <= d < math.inf for d in found)
    assert found[5] < 0.6 * cumulative[5]


def _binomial_run(seed: int, rates: list[float], alpha: float, p0: float = 0.05) -> float:
    rng = np.random.default_rng(seed)
    detector = BinomialDetector(p0, horizon=len(rates) * 2.0)
    for i, p in enumerate(rates):
        detector.update(float(rng.binomial(40, p)), 40.0, 2.0 * i)
        if detector.log_e() >= math.log(1 / alpha):
            return float(i)
    return math.inf


def test_binomial_detector_false_alarms_stay_within_alpha_at_the_objective() -> None:
    alarms = sum(_binomial_run(seed, [0.05] * 200, 0.1) < math.inf for seed in range(200))
    assert alarms <= 30  # binomial(200, 0.1) exceeds 30 with probability < 1 %


def test_binomial_detector_finds_a_breach_that_starts_late() -> None:
    delays = sorted(_binomial_run(seed, [0.02] * 300 + [0.15] * 300, 0.003) for seed in range(10))
    assert all(300 <= d < 330 for d in delays)
