"""The conditional odds-ratio test: anytime type-I error, coverage, power, robustness."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest

from sentra_ml.analysis.stats import oddsratio
from sentra_ml.analysis.stats.oddsratio import ConditionalOddsRatioTest

ALPHA = 0.05


def ever_rejects(
    rng: np.random.Generator,
    looks: int,
    n: int,
    m: int,
    p_canary: float,
    p_base: float,
    null: float,
) -> bool:
    test = ConditionalOddsRatioTest(nulls=(null,))
    for _ in range(looks):
        test.update(rng.binomial(n, p_canary), n, rng.binomial(m, p_base), m)
        if test.log_e_above(null) >= math.log(1 / ALPHA):
            return True
    return False


@pytest.mark.parametrize(
    ("n", "m", "p"),
    [
        (20, 1980, 0.01),  # canary at 1 % of traffic
        (500, 500, 0.01),  # canary at 50 %
        (1, 1, 0.2),  # about one request per second and cohort
    ],
    ids=["canary-1pct", "canary-50pct", "low-traffic"],
)
def test_false_alarms_stay_below_alpha_however_often_we_look(n: int, m: int, p: float) -> None:
    rng = np.random.default_rng(7)
    runs = 200
    alarms = sum(ever_rejects(rng, 150, n, m, p, p, 0.0) for _ in range(runs))
    # alpha plus three binomial standard errors of the Monte-Carlo estimate
    assert alarms / runs <= ALPHA + 3 * math.sqrt(ALPHA * (1 - ALPHA) / runs)


def test_drifting_baseline_rate_does_not_fake_a_regression() -> None:
    """Both cohorts follow the same diurnal error rate; traffic share changes mid-way."""
    rng = np.random.default_rng(11)
    alarms = 0
    for _ in range(100):
        test = ConditionalOddsRatioTest(nulls=(0.0,))
        for t in range(200):
            p = 0.01 * (1 + 0.8 * math.sin(t / 15))
            n, m = (10, 990) if t < 100 else (500, 500)
            test.update(rng.binomial(n, p), n, rng.binomial(m, p), m)
            if test.log_e_above(0.0) >= math.log(1 / ALPHA):
                alarms += 1
                break
    assert alarms / 100 <= ALPHA + 0.05


def test_tolerance_null_is_not_rejected_by_a_smaller_regression() -> None:
    """A canary 5 % worse must not be rolled back under a 20 % tolerance."""
    rng = np.random.default_rng(3)
    null = math.log(1.2)
    alarms = sum(ever_rejects(rng, 200, 200, 800, 0.0105, 0.01, null) for _ in range(100))
    assert alarms <= 5


def test_detects_error_ratio_step_quickly() -> None:
    rng = np.random.default_rng(5)
    delays = []
    for _ in range(50):
        test = ConditionalOddsRatioTest(nulls=(math.log(1.2),))
        for t in range(1, 200):
            test.update(rng.binomial(40, 0.03), 40, rng.binomial(760, 0.01), 760)  # 2 s at 20 rps
            if test.log_e_above(math.log(1.2)) >= math.log(100):
                delays.append(2 * t)
                break
    assert len(delays) == 50
    assert float(np.median(delays)) <= 40


def test_interval_covers_the_true_odds_ratio_along_the_whole_path() -> None:
    rng = np.random.default_rng(9)
    p_c, p_b = 0.03, 0.01
    true = math.log((p_c / (1 - p_c)) / (p_b / (1 - p_b)))
    misses = 0
    for _ in range(60):
        test = ConditionalOddsRatioTest()
        for t in range(80):
            test.update(rng.binomial(50, p_c), 50, rng.binomial(500, p_b), 500)
            if t % 10 == 9:
                low, high = test.interval(0.1)
                if not low - 0.05 <= true <= high + 0.05:
                    misses += 1
                    break
    assert misses <= 6 + 6


def test_uninformative_tables_change_nothing() -> None:
    test = ConditionalOddsRatioTest()
    test.update(0, 10, 0, 10)
    test.update(5, 5, 7, 7)
    test.update(0, 0, 3, 9)
    assert test.tables == 0
    assert test.interval(0.05) == (-math.inf, math.inf)


def test_invalid_tables_are_refused() -> None:
    with pytest.raises(ValueError, match="invalid 2x2 table"):
        ConditionalOddsRatioTest().update(5, 3, 0, 10)


def test_undeclared_null_is_refused() -> None:
    with pytest.raises(ValueError, match="not a declared null"):
        ConditionalOddsRatioTest(nulls=(0.0,)).log_e_above(0.123)


def test_a_huge_table_is_thinned_quickly_and_still_tests() -> None:
    start = time.perf_counter()
    same, worse = ConditionalOddsRatioTest(nulls=(0.0,)), ConditionalOddsRatioTest(nulls=(0.0,))
    for _ in range(20):
        same.update(10**13, 10**15, 10**17, 10**19)  # 1 % in both, canary at 1 % of traffic
        worse.update(3 * 10**13, 10**15, 10**17, 10**19)  # three times the canary's errors
    assert time.perf_counter() - start < 10.0
    assert same.log_e_above(0.0) < math.log(1 / ALPHA) and same.tables == 20
    assert worse.log_e_above(0.0) > 100.0
    assert math.exp(worse.estimate()) == pytest.approx(3.0, rel=0.1)


def test_thinning_the_larger_cohort_keeps_most_of_the_evidence(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A 1 % canary with 10^4 requests against 10^6: the lattice would need ~3,000 points."""

    def evidence() -> float:
        test = ConditionalOddsRatioTest(nulls=(0.0,))
        for _ in range(5):
            test.update(150, 10_000, 10_000, 1_000_000)
        return test.log_e_above(0.0)

    thinned = evidence()
    monkeypatch.setattr(oddsratio, "_MAX_POINTS", 10**6)
    exact = evidence()
    assert exact > 5.0
    assert thinned == pytest.approx(exact, rel=0.25)
