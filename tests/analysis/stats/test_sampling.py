"""Draws without replacement from populations of any size: exact below 1e9, close above."""

from __future__ import annotations

import numpy as np
import pytest

from sentra_ml.analysis.stats.sampling import hypergeometric, multivariate_hypergeometric


def test_below_numpys_limit_the_draws_are_numpys_own() -> None:
    ours, theirs = np.random.default_rng(5), np.random.default_rng(5)
    for good, bad, n in [(30, 970, 200), (10**9 - 1, 10**9 - 1, 10**6), (0, 5, 3)]:
        assert hypergeometric(ours, good, bad, n) == int(theirs.hypergeometric(good, bad, n))
    counts = [5, 0, 700, 10**6]
    drawn = multivariate_hypergeometric(ours, counts, 300)
    assert drawn == theirs.multivariate_hypergeometric(np.array(counts), 300).tolist()


@pytest.mark.parametrize(
    ("good", "bad", "n"),
    [
        (3 * 10**11, 7 * 10**11, 200),  # a small sample: binomial
        (10**12, 10**12, 10**12),  # half the population: normal, with its exact variance
        (5, 10**15, 5 * 10**14),  # few good items: binomial over them
        (10**15, 40, 10**14),  # few bad items
        (10**40, 10**60, 10**57),  # beyond numpy's binomial: its normal limit
        (10**20, 10**70, 10**50),  # beyond it with a tiny mean: its Poisson limit
    ],
)
def test_above_it_the_draws_have_the_hypergeometric_mean_and_variance(
    good: int, bad: int, n: int
) -> None:
    rng = np.random.default_rng(1)
    total = good + bad
    draws = [hypergeometric(rng, good, bad, n) for _ in range(3000)]
    assert min(draws) >= max(0, n - bad) and max(draws) <= min(n, good)
    # deviations from the mean in exact integers: floats would round away the spread
    centre = n * good // total
    deviations = np.array([d - centre for d in draws], dtype=np.float64)
    var = n * (good / total) * (bad / total) * (total - n) / (total - 1)
    assert abs(deviations.mean()) <= 5 * np.sqrt(var / len(draws)) + 1.0
    assert deviations.var() == pytest.approx(var, rel=0.15)


def test_edges_stay_in_the_support_and_bad_input_is_refused() -> None:
    rng = np.random.default_rng(2)
    big = 10**30
    assert hypergeometric(rng, big, big, 0) == 0
    assert hypergeometric(rng, big, big, 2 * big) == big
    assert hypergeometric(rng, 0, big, 10**6) == 0
    assert hypergeometric(rng, big, 0, 10**6) == 10**6
    with pytest.raises(ValueError, match="n <= good"):
        hypergeometric(rng, 1, 1, 3)


def test_a_huge_histogram_is_cut_to_the_sample_size_in_proportion() -> None:
    rng = np.random.default_rng(3)
    counts = [10**20, 0, 3 * 10**20, 10**12, 6 * 10**20]
    drawn = np.array([multivariate_hypergeometric(rng, counts, 200) for _ in range(500)])
    assert (drawn.sum(axis=1) == 200).all()
    assert drawn[:, 1].max() == 0 and drawn[:, 3].max() <= 1
    assert drawn.mean(axis=0)[[0, 2, 4]] == pytest.approx([20.0, 60.0, 120.0], rel=0.05)
