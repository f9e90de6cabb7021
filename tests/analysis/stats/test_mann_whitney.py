"""Mann-Whitney with the Hodges-Lehmann estimate and Moses' interval: against enumeration and
scipy."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scipy import stats

from sentra_ml.analysis.stats.mann_whitney import (
    _moses_k_exact,
    _moses_k_normal,
    _pairwise_order_stats,
    _u_null_pmf,
    mann_whitney,
)


def brute_force_moses_k(n: int, m: int, alpha: float) -> int:
    """k from the null law of U enumerated over all rank assignments."""
    counts: dict[int, int] = {}
    for ranks in itertools.combinations(range(1, n + m + 1), n):
        u = sum(ranks) - n * (n + 1) // 2
        counts[u] = counts.get(u, 0) + 1
    total = math.comb(n + m, n)
    k, cdf = 0, 0.0
    for u in range(n * m + 1):
        cdf += counts.get(u, 0) / total
        if cdf <= alpha / 2 + 1e-12:
            k = u + 1
        else:
            break
    return k


@pytest.mark.parametrize(("n", "m"), [(3, 3), (4, 6), (5, 5), (7, 6), (8, 9)])
@pytest.mark.parametrize("alpha", [0.02, 0.05, 0.1])
def test_exact_moses_rank_matches_enumeration(n: int, m: int, alpha: float) -> None:
    assert _moses_k_exact(n, m, alpha) == brute_force_moses_k(n, m, alpha)


def test_exact_null_law_matches_scipy_exact_p_values() -> None:
    rng = np.random.default_rng(0)
    for n, m in [(7, 5), (10, 12), (30, 20)]:
        x, y = rng.normal(size=n), rng.normal(size=m) + 0.5
        reference = stats.mannwhitneyu(x, y, method="exact", alternative="two-sided").pvalue
        u = stats.mannwhitneyu(x, y, method="exact").statistic
        cdf = np.cumsum(_u_null_pmf(n, m))
        tail = min(cdf[int(u)], 1 - cdf[int(u) - 1] if u > 0 else 1.0)
        assert min(1.0, 2 * tail) == pytest.approx(reference, rel=1e-9)


def test_normal_rank_is_close_to_exact_for_moderate_samples() -> None:
    for n, m in [(30, 30), (50, 50), (20, 100)]:
        assert abs(_moses_k_normal(n, m, 0.02) - _moses_k_exact(n, m, 0.02)) <= 2


def test_estimate_and_interval_against_brute_force() -> None:
    rng = np.random.default_rng(3)
    c, b = rng.exponential(size=40) + 0.3, rng.exponential(size=35)
    r = mann_whitney(c, b, confidence=0.95)
    diffs = np.sort(np.subtract.outer(c, b).ravel())
    assert r.estimate == pytest.approx(np.median(diffs))
    k = _moses_k_exact(40, 35, 0.05)
    assert (r.low, r.high) == (diffs[k - 1], diffs[diffs.size - k])
    scipy_result = stats.mannwhitneyu(c, b, alternative="two-sided")
    assert r.statistic == scipy_result.statistic and r.p_value == scipy_result.pvalue


def test_large_samples_select_order_statistics_without_all_pairs() -> None:
    rng = np.random.default_rng(1)
    for decimals in (0, 1, 12):  # heavy ties, some ties, none
        c = np.sort(np.round(rng.normal(size=700), decimals))
        b = np.sort(np.round(rng.normal(size=900), decimals))
        ranks = [1, 5, 1000, 315000, 315001, 629999, 630000]
        assert _pairwise_order_stats(c, b, ranks, max_pairs=10) == _pairwise_order_stats(
            c, b, ranks
        )


def test_large_sample_path_end_to_end() -> None:
    rng = np.random.default_rng(2)
    c, b = rng.normal(0.5, 1.0, 1500), rng.normal(0.0, 1.0, 1000)  # 1.5e6 pairs
    r = mann_whitney(c, b)
    assert "normal" in r.method
    assert r.low < 0.5 < r.high and r.low < r.estimate < r.high


@pytest.mark.parametrize(("size", "runs"), [(25, 300), (60, 150)])  # exact, then normal rank
def test_hodges_lehmann_interval_covers_the_shift(size: int, runs: int) -> None:
    rng = np.random.default_rng(size)
    covered = 0
    for _ in range(runs):
        c = rng.standard_t(3, size=size) + 0.7
        b = rng.standard_t(3, size=size + 3)
        r = mann_whitney(c, b, confidence=0.98)
        covered += r.low <= 0.7 <= r.high
    assert covered / runs >= 0.95  # nominal 0.98


def test_degenerate_and_invalid_samples() -> None:
    r = mann_whitney([2.0, 2.0], [2.0, 2.0, 2.0])
    assert (r.p_value, r.estimate, r.low, r.high) == (1.0, 0.0, 0.0, 0.0)
    r = mann_whitney([1.0], [2.0])  # too small for any interval at 98 %
    assert (r.low, r.high) == (-math.inf, math.inf)
    with pytest.raises(ValueError):
        mann_whitney([], [1.0])
    with pytest.raises(ValueError):
        mann_whitney([1.0, math.nan], [1.0])
