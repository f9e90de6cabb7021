"""Beta-binomial mixture tests: exact values, anytime type-I error, coverage, power, quantiles."""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import numpy as np
import pytest
from scipy import integrate, stats
from scipy.special import betaln, logsumexp

from sentra_ml.analysis.stats.binomial_cs import (
    log_e_above,
    log_e_below,
    proportion_interval,
    quantile_interval,
)

ALPHA = 0.05
RUNS, LOOKS = 1000, 2000
MARGIN = 0.015  # ~2 Monte-Carlo standard errors at 1,000 runs


def reference_log_e_above(k: float, n: float, p0: float, a: float = 0.5, b: float = 0.5) -> float:
    """The defining integral, by quadrature, scaled by the likelihood at its maximum."""

    def loglik(p: float) -> float:
        return k * math.log(p) + (n - k) * math.log1p(-p)

    peak = min(max(k / n, p0), 1 - 1e-12)
    top = loglik(peak) - loglik(p0)

    def integrand(p: float) -> float:
        log_prior = (a - 1) * math.log(p) + (b - 1) * math.log1p(-p) - betaln(a, b)
        return math.exp(loglik(p) - loglik(p0) - top + log_prior)

    sd = math.sqrt(max(peak * (1 - peak), 1e-12) / n)
    points = [x for x in (peak, peak + sd, peak + 5 * sd, peak + 20 * sd) if p0 < x < 1]
    num, _ = integrate.quad(integrand, p0, 1, points=points, limit=500, epsabs=0, epsrel=1e-11)
    den = stats.beta.sf(p0, a, b)
    return math.log(num) + top - math.log(den)


@pytest.mark.parametrize(
    ("k", "n", "p0"),
    [
        (30, 1000, 0.01),
        (10, 1000, 0.01),
        (0, 1000, 0.01),
        (5, 10, 0.3),
        (12.5, 100.3, 0.2),  # counts from rates
        (0, 1e6, 1e-3),  # the tail underflows: continued-fraction path
        (2, 1e6, 1e-3),
        (0, 5e7, 0.01),
        (3e5, 1e7, 0.05),
    ],
)
def test_matches_the_defining_integral(k: float, n: float, p0: float) -> None:
    assert log_e_above(k, n, p0) == pytest.approx(reference_log_e_above(k, n, p0), abs=1e-7)


def test_below_is_the_mirror_of_above() -> None:
    for k, n, p0 in [(0, 1000, 0.01), (3, 10, 0.25), (999, 1000, 0.999), (40, 50, 0.6)]:
        assert log_e_below(k, n, p0) == pytest.approx(log_e_above(n - k, n, 1 - p0), abs=1e-9)
        assert log_e_below(k, n, p0, 2.0, 3.0) == pytest.approx(
            log_e_above(n - k, n, 1 - p0, 3.0, 2.0), abs=1e-9
        )


@pytest.mark.parametrize(("n", "p0"), [(1, 0.1), (10, 0.01), (60, 0.5), (300, 0.03)])
def test_exact_martingale_under_the_boundary_null(n: int, p0: float) -> None:
    k = np.arange(n + 1.0)
    log_weights = stats.binom.logpmf(k, n, p0)
    for side in (log_e_above, log_e_below):
        log_expectation = float(logsumexp(log_weights + side(k, float(n), p0)))
        assert log_expectation == pytest.approx(0.0, abs=1e-9)


def test_edges_clipping_and_vectorisation() -> None:
    assert log_e_above(1, 10, 0.0) == math.inf
    assert log_e_above(0, 10, 0.0) < 0
    assert log_e_above(3, 10, 1.0) == 0.0
    assert log_e_below(3, 10, 0.0) == 0.0
    assert log_e_below(9, 10, 1.0) == math.inf
    assert log_e_above(15, 10, 0.5) == log_e_above(10, 10, 0.5)  # k is clipped to n
    assert log_e_above(-2, 10, 0.5) == log_e_above(0, 10, 0.5)
    ks = np.array([0.0, 3.0, 7.5])
    np.testing.assert_allclose(log_e_above(ks, 20.0, 0.2), [log_e_above(k, 20, 0.2) for k in ks])
    assert np.all(np.diff(log_e_above(np.arange(21.0), 20.0, 0.2)) > 0)
    with pytest.raises(ValueError):
        log_e_above(1, 10, 1.5)


def on_paths(side: Callable[..., np.ndarray], k: np.ndarray, p0: float) -> np.ndarray:
    """`side(k, n, p0)` after every trial of every stream (column j is trial j + 1).

    Streams share most (k, n) pairs, so each distinct pair is evaluated once.
    """
    looks = k.shape[1]
    n = np.broadcast_to(np.arange(1, looks + 1), k.shape)
    codes = k.astype(np.int64) * (looks + 1) + n
    unique, inverse = np.unique(codes, return_inverse=True)
    values = side(
        (unique // (looks + 1)).astype(np.float64), (unique % (looks + 1)).astype(float), p0
    )
    return np.asarray(values[inverse].reshape(k.shape))


def crossing_rates(
    p_true: float, p0_above: float, p0_below: float, seed: int
) -> tuple[np.ndarray, np.ndarray, float, float]:
    """Fraction of null streams whose e-value ever reaches 1/alpha, checked after every trial."""
    rng = np.random.default_rng(seed)
    k = np.cumsum(rng.random((RUNS, LOOKS)) < p_true, axis=1)
    above = on_paths(log_e_above, k, p0_above)
    below = on_paths(log_e_below, k, p0_below)
    level = math.log(1 / ALPHA)
    rate_above = float(np.mean((above >= level).any(axis=1)))
    rate_below = float(np.mean((below >= level).any(axis=1)))
    return above, below, rate_above, rate_below


@pytest.mark.parametrize(("p", "seed"), [(0.1, 1), (0.01, 2)])  # 0.01: a small boundary null
def test_anytime_type_one_error_and_coverage_on_the_boundary(p: float, seed: int) -> None:
    above, below, rate_above, rate_below = crossing_rates(p, p, p, seed)
    # measured: p=0.1: 0.026 / 0.041; p=0.01: 0.016 / 0.034
    assert rate_above <= ALPHA + MARGIN
    assert rate_below <= ALPHA + MARGIN
    # the proportion interval covers p at a time exactly when neither side rejects at alpha/2
    level = math.log(2 / ALPHA)
    covered = np.mean(((above < level) & (below < level)).all(axis=1))
    assert covered >= 1 - ALPHA - MARGIN  # measured 0.961 and 0.972


def test_anytime_type_one_error_inside_the_null() -> None:
    # p = 0.005 is inside "p <= 0.01" and inside "p >= 0.0025": both are supermartingales
    _, _, rate_above, rate_below = crossing_rates(0.005, 0.01, 0.0025, 3)
    assert rate_above <= ALPHA / 2  # measured 0.010 (and 0.001 below)
    assert rate_below <= ALPHA / 2


def test_power_three_times_the_null_rate() -> None:
    rng = np.random.default_rng(9)
    horizon = 5000
    k = np.cumsum(rng.random((200, horizon)) < 0.03, axis=1)
    hit = on_paths(log_e_above, k, 0.01) >= math.log(1 / ALPHA)
    assert hit.any(axis=1).all()
    first = hit.argmax(axis=1) + 1
    assert 200 <= np.median(first) <= 600  # measured median 281 trials (10 %: 59, 90 %: 967)


def test_proportion_interval_ends_are_the_rejection_boundaries() -> None:
    level = math.log(2 / ALPHA)
    for k, n in [(30, 1000), (1, 7), (250, 500), (3, 1e8), (499.5, 1000.25)]:
        low, high = proportion_interval(k, n, ALPHA)
        assert low < k / n < high
        assert log_e_above(k, n, low) < level <= log_e_above(k, n, low * (1 - 1e-6))
        assert log_e_below(k, n, high) < level <= log_e_below(k, n, min(1.0, high * (1 + 1e-6)))
    assert proportion_interval(0, 1000, ALPHA)[0] == 0.0
    assert proportion_interval(1000, 1000, ALPHA)[1] == 1.0
    assert proportion_interval(0, 0, ALPHA) == (0.0, 1.0)


def test_proportion_interval_covers_along_paths() -> None:
    rng = np.random.default_rng(21)
    misses = 0
    for _ in range(60):
        k = np.cumsum(rng.random(3000) < 0.02)
        for n in (30, 300, 3000):
            low, high = proportion_interval(float(k[n - 1]), n, ALPHA)
            if not low <= 0.02 <= high:
                misses += 1
                break
    assert misses <= 60 * ALPHA


# --- quantiles -------------------------------------------------------------------------------


def test_quantile_interval_order_statistics_match_the_count_tests() -> None:
    rng = np.random.default_rng(4)
    level = math.log(2 / ALPHA)
    for n in (5, 40, 300, 2000):
        x = np.sort(rng.lognormal(size=n))
        for p in (0.5, 0.9, 0.99):
            est, low, high = quantile_interval(x, p, ALPHA)
            assert est == pytest.approx(np.quantile(x, p))
            # every data point strictly inside (low, high) is a threshold both tests accept
            for q in x[(x > low) & (x < high)]:
                assert log_e_above(float(np.sum(x < q)), n, p) < level
                assert log_e_below(float(np.sum(x <= q)), n, p) < level
            # and the ends are as far as the tests allow
            if math.isfinite(high):
                assert log_e_above(float(np.sum(x <= high)), n, p) >= level
            if math.isfinite(low):
                assert log_e_below(float(np.sum(x < low)), n, p) >= level


def test_quantile_interval_anytime_coverage() -> None:
    """Coverage of the true p99 over whole paths: the counts below it, every observation."""
    rng = np.random.default_rng(8)
    p, runs, looks = 0.99, 1000, 2000
    q_true = stats.expon.ppf(p)
    below = np.cumsum(rng.exponential(size=(runs, looks)) <= q_true, axis=1)
    level = math.log(2 / ALPHA)
    # continuous data: "< q" and "<= q" counts coincide
    ok = (on_paths(log_e_above, below, p) < level) & (on_paths(log_e_below, below, p) < level)
    assert np.mean(ok.all(axis=1)) >= 1 - ALPHA


def test_quantile_interval_covers_when_called_along_paths() -> None:
    rng = np.random.default_rng(12)
    misses = 0
    for _ in range(60):
        x = rng.exponential(size=4000)
        for n in (20, 100, 500, 4000):
            _, low, high = quantile_interval(x[:n], 0.9, ALPHA)
            if not low <= math.log(10) <= high:
                misses += 1
                break
    assert misses <= 60 * ALPHA


def test_quantile_interval_from_a_histogram() -> None:
    rng = np.random.default_rng(6)
    values = rng.exponential(0.2, size=20000)
    edges = np.append(np.linspace(0.01, 2.0, 200), math.inf)
    counts = np.bincount(np.searchsorted(edges, values), minlength=len(edges)).astype(float)
    for p in (0.5, 0.99):
        est_h, low_h, high_h = quantile_interval((edges, counts), p, ALPHA)
        est_r, low_r, high_r = quantile_interval(values, p, ALPHA)
        width = edges[1] - edges[0]
        assert est_h == pytest.approx(est_r, abs=width)
        assert low_h == pytest.approx(low_r, abs=width)
        assert high_h == pytest.approx(high_r, abs=width)
        _, low_c, high_c = quantile_interval((edges, counts), p, ALPHA, conservative=True)
        assert low_c <= low_h and high_c >= high_h
        assert low_c <= low_r and high_c >= high_r


def test_histogram_tails_empties_and_bad_input() -> None:
    edges = np.array([1.0, 2.0, math.inf])
    # most mass in +Inf: the estimate and a low end stop at the last finite bound
    est, low, high = quantile_interval((edges, np.array([0.0, 10.0, 990.0])), 0.5, ALPHA)
    assert est == 2.0 and low == 2.0 and high == math.inf
    assert quantile_interval((edges, np.zeros(3)), 0.5, ALPHA)[1:] == (-math.inf, math.inf)
    assert math.isnan(quantile_interval(np.array([]), 0.5, ALPHA)[0])
    # non-integer counts (from rates) are fine
    est, low, high = quantile_interval((edges, np.array([40.5, 50.25, 3.0])), 0.5, ALPHA)
    assert 0.0 <= low <= est <= high <= 2.0
    # with few values nothing can be excluded yet
    assert quantile_interval(np.array([3.0, 1.0, 2.0]), 0.5, ALPHA)[1:] == (-math.inf, math.inf)
    with pytest.raises(ValueError):
        quantile_interval((np.array([1.0, 2.0]), np.array([1.0, 1.0])), 0.5, ALPHA)
    with pytest.raises(ValueError):
        quantile_interval(np.array([1.0, 2.0]), 1.0, ALPHA)


def test_beyond_2_to_32_trials_the_evidence_is_that_of_2_to_32() -> None:
    """Float64 cannot hold such likelihoods to the digits: the tests score the ratio on fewer
    trials, which never gives more evidence than the full count would."""
    small = 2.0**32
    for ratio in (0.0099, 0.01, 0.0101, 0.5):
        for n in (1e10, 1e20, 1e100):
            above, below = log_e_above(ratio * n, n, 0.01), log_e_below(ratio * n, n, 0.01)
            assert above == pytest.approx(log_e_above(ratio * small, small, 0.01), rel=1e-6)
            assert below == pytest.approx(log_e_below(ratio * small, small, 0.01), rel=1e-6)
    low, high = proportion_interval(0.011e30, 1e30, ALPHA)
    assert low < 0.011 < high and high - low < 1e-4


@pytest.mark.parametrize("total", [2.0**53, 1e20, 1e100])
def test_quantile_interval_of_a_histogram_beyond_float_integers(total: float) -> None:
    """Ranks beyond 2^53 are not all floats: the rank search still ends, and quickly."""
    edges = np.array([1.0, 10.0, 100.0, math.inf])
    counts = np.array([0.5, 0.4, 0.09, 0.01]) * total
    start = time.perf_counter()
    est, low, high = quantile_interval((edges, counts), 0.95, ALPHA)
    assert time.perf_counter() - start < 2.0
    assert 10.0 <= low <= est <= high <= 100.0
