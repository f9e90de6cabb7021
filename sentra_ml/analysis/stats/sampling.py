"""Draws without replacement from populations of any size, for thinning counts.

A random subsample of a cohort's requests is again a sample of the same Bernoulli trials, so
every test stays valid on it: this is how huge counts are cut down to what the tests can sum
exactly and quickly. numpy's samplers are exact but refuse populations of 1e9 and more.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

_EXACT_BELOW = 10**9  # numpy needs ngood and nbad below this
_RARE = 1e-3  # a parameter below this share of the population makes a binomial view accurate
_INT64 = 2**62  # numpy's binomial takes at most this many trials (with some margin)


def hypergeometric(rng: np.random.Generator, good: int, bad: int, n: int) -> int:
    """How many of `n` draws without replacement from `good + bad` items are good.

    Exact (numpy) while `good` and `bad` are below 1e9. Above, the count is symmetric in its
    four parameters `good`, `bad`, `n` and `good + bad - n` (each with its complement), so it
    is drawn as a binomial over the smallest of them when that one is below 1e-3 of the
    population (the variance is then off by less than that share), else as a normal with the
    exact mean and variance, whose standard deviation is then above 15.

    >>> rng = np.random.default_rng(0)
    >>> hypergeometric(rng, 10**12, 10**12, 200) in range(70, 131)
    True
    """
    total = good + bad
    if min(good, bad, n) < 0 or n > total:
        raise ValueError(f"need good, bad, n >= 0 and n <= good + bad, got {good}, {bad}, {n}")
    if good < _EXACT_BELOW and bad < _EXACT_BELOW:
        return int(rng.hypergeometric(good, bad, n)) if n > 0 else 0
    rest = total - n
    smallest = min(good, bad, n, rest)
    if smallest <= _RARE * total:
        if smallest == n:
            return _binomial(rng, n, good, total)
        if smallest == rest:  # the undrawn items: the good ones among them stay behind
            return good - _binomial(rng, rest, good, total)
        if smallest == good:  # each good item is drawn with chance n / total
            return _binomial(rng, good, n, total)
        return n - _binomial(rng, bad, n, total)
    sd = math.sqrt(n * (good / total) * (bad / total) * (rest / (total - 1)))
    drawn = n * good // total + round(float(rng.normal(0.0, sd)))  # exact in ints of any size
    return min(max(drawn, n - bad, 0), n, good)


def multivariate_hypergeometric(
    rng: np.random.Generator, counts: Sequence[int], n: int
) -> list[int]:
    """How many of `n` draws without replacement fall in each class of `counts`.

    Exact (numpy) while the population is below 1e9; above, one class after the other, each
    given the draws left (the marginal method), with `hypergeometric`.
    """
    total = sum(counts)
    if total < _EXACT_BELOW:
        drawn = rng.multivariate_hypergeometric(np.asarray(counts, dtype=np.int64), n)
        return [int(c) for c in drawn]
    out = []
    for count in counts:
        total -= count
        k = hypergeometric(rng, count, total, n) if n > 0 else 0
        out.append(k)
        n -= k
    return out


def _binomial(rng: np.random.Generator, trials: int, hits: int, of: int) -> int:
    """Binomial(trials, hits / of) for any number of trials (normal or Poisson beyond numpy)."""
    if trials < _INT64:
        return int(rng.binomial(trials, hits / of))
    flip = 2 * hits > of  # draw the rarer outcome
    hits = of - hits if flip else hits
    q = hits / of
    if trials * q < 100.0:  # q < 1e-16: the Poisson limit is exact to far below float precision
        k = int(rng.poisson(trials * q))
    else:
        sd = math.sqrt(trials * q * (1.0 - q))
        k = trials * hits // of + round(float(rng.normal(0.0, sd)))
    k = min(max(k, 0), trials)
    return trials - k if flip else k
