"""The Mann-Whitney test with the Hodges-Lehmann shift estimate and Moses' distribution-free
interval (fixed-horizon; see `fixed_horizon`).

Reference: Hollander, Wolfe & Chicken (2014), "Nonparametric Statistical Methods", 3rd ed.,
ch. 4.3.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

import numpy as np
from scipy import stats

from sentra_ml.analysis.stats.fixed_horizon import (
    FixedHorizonResult,
    FloatArray,
    Values,
    check_confidence,
    finite_values,
)

# pairwise differences are materialised up to this many (8 MB); beyond, order statistics of
# the differences are selected by bisection on their value, in O((n + m) log m) per step
_MAX_PAIRS = 1_000_000
# the exact null law of U is used for the Moses interval up to this n * m
_EXACT_PAIRS = 2_500


def mann_whitney(
    canary: Values,
    baseline: Values,
    confidence: float = 0.98,
    method: Literal["auto", "exact", "asymptotic"] = "auto",
) -> FixedHorizonResult:
    """Two-sided Mann-Whitney U test with the Hodges-Lehmann shift and Moses' interval.

    `statistic` is U of the canary and `p_value` scipy's two-sided p-value (exact for small
    samples without ties, else normal with continuity and tie corrections). `estimate` is the
    Hodges-Lehmann shift, the median of all `canary_i - baseline_j`; `(low, high)` is the
    distribution-free interval `[D_(k), D_(nm+1-k)]` of the ordered differences, `k` the largest
    count with `P(U <= k - 1) <= (1 - confidence) / 2` under the null. That law is exact up to
    n * m = 2,500 (or `method="exact"`), normal beyond (`k = floor(nm/2 + 1/2 - z sigma)`);
    ties are ignored there, which makes the interval slightly conservative. When `k = 0` the
    samples are too small for the level and the interval is infinite.

    Memory stays bounded: up to 10^6 pairs the differences are materialised; beyond, each
    needed order statistic is found by bisection on its value, counting the differences below
    a candidate with one binary search per canary value (O(n log m) time, O(n) memory per
    step, some 60 steps), then selecting among the at most max(n + m, 4096) pairs left in the
    final bracket. The result is exact, not subsampled.

    >>> rng = np.random.default_rng(1)
    >>> r = mann_whitney(rng.normal(1.0, 1.0, 200), rng.normal(0.0, 1.0, 200), confidence=0.95)
    >>> r.p_value < 1e-10, round(r.estimate, 2), round(r.low, 2), round(r.high, 2)
    (True, 1.04, 0.86, 1.22)
    """
    c, b = finite_values(canary, "canary"), finite_values(baseline, "baseline")
    check_confidence(confidence)
    n, m = c.size, b.size
    c.sort()
    b.sort()
    if c[0] == c[-1] == b[0] == b[-1]:  # everything tied: no evidence, no shift
        return FixedHorizonResult(n * m / 2.0, 1.0, 0.0, 0.0, 0.0, "mann-whitney (all tied)")
    mw = stats.mannwhitneyu(c, b, alternative="two-sided", method="auto")
    alpha = 1.0 - confidence
    use_exact = method == "exact" or (method == "auto" and n * m <= _EXACT_PAIRS)
    k = _moses_k_exact(n, m, alpha) if use_exact else _moses_k_normal(n, m, alpha)
    total = n * m
    ranks = [(total + 1) // 2, total // 2 + 1]  # the median (two middle ranks when even)
    if k >= 1:
        ranks += [k, total + 1 - k]
    values = _pairwise_order_stats(c, b, ranks)
    estimate = 0.5 * (values[0] + values[1])
    low, high = (values[2], values[3]) if k >= 1 else (-math.inf, math.inf)
    label = "exact" if use_exact else "normal"
    return FixedHorizonResult(
        float(mw.statistic),
        float(mw.pvalue),
        float(estimate),
        float(low),
        float(high),
        f"mann-whitney + hodges-lehmann ({label} moses interval)",
    )


def _moses_k_exact(n: int, m: int, alpha: float) -> int:
    """Largest k with P(U <= k - 1) <= alpha / 2, from the exact null law of U."""
    cdf = np.cumsum(_u_null_pmf(n, m))
    return int(np.searchsorted(cdf, alpha / 2.0 * (1.0 + 1e-12), side="right"))


def _moses_k_normal(n: int, m: int, alpha: float) -> int:
    sigma = math.sqrt(n * m * (n + m + 1) / 12.0)
    z = float(stats.norm.ppf(1.0 - alpha / 2.0))
    return max(0, math.floor(n * m / 2.0 + 0.5 - z * sigma))


def _u_null_pmf(n: int, m: int) -> FloatArray:
    """Null law of U (no ties) as the coefficients of the Gaussian binomial [n + m choose n]_q.

    Built as prod_{i=1..n} (1 - q^(m+i)) / (1 - q^i); after each full factor the polynomial is
    [m + i choose i]_q, whose coefficients are non-negative, so the rounding error stays at the
    level of the largest coefficient.
    """
    if n > m:
        n, m = m, n  # the law of U is symmetric in the roles of the samples
    size = n * m + 1
    poly = np.zeros(size)
    poly[0] = 1.0
    for i in range(1, n + 1):
        shift = m + i
        if shift < size:
            poly[shift:] -= poly[: size - shift].copy()
        for r in range(i):  # divide by (1 - q^i): a running sum along each stride-i class
            poly[r::i] = np.cumsum(poly[r::i])
    poly = np.maximum(poly, 0.0)
    return np.asarray(poly / poly.sum(), dtype=np.float64)


def _pairwise_order_stats(
    c: FloatArray, b: FloatArray, ranks: Sequence[int], max_pairs: int = _MAX_PAIRS
) -> list[float]:
    """The `ranks` (1-based) order statistics of all `c_i - b_j`; `c` and `b` sorted."""
    n, m = c.size, b.size
    if n * m <= max_pairs:
        diffs = np.subtract.outer(c, b).ravel()
        idx = sorted({r - 1 for r in ranks})
        part = np.partition(diffs, idx)
        return [float(part[r - 1]) for r in ranks]
    return [_select_difference(c, b, r, max(n + m, 4096)) for r in ranks]


def _count_le(c: FloatArray, b: FloatArray, t: float) -> int:
    """Number of pairs with c_i - b_j <= t, i.e. b_j >= c_i - t."""
    return int(b.size * c.size - np.searchsorted(b, c - t, side="left").sum())


def _select_difference(c: FloatArray, b: FloatArray, rank: int, enumerate_below: int) -> float:
    """The rank-th smallest c_i - b_j without forming all of them (bisection on the value).

    Membership of a pair below a value uses one rounded comparison everywhere (`_count_le`'s),
    so counts and the final enumeration agree exactly.
    """
    span = float(c[-1] - c[0] + b[-1] - b[0])
    pad = 1e-9 * span + 1e-300
    lo, hi = float(c[0] - b[-1]) - pad, float(c[-1] - b[0]) + pad
    count_lo, count_hi = _count_le(c, b, lo), _count_le(c, b, hi)
    while count_lo >= rank:  # rounding at the extremes: widen until the bracket holds
        pad *= 2.0
        lo -= pad
        count_lo = _count_le(c, b, lo)
    while count_hi < rank:
        pad *= 2.0
        hi += pad
        count_hi = _count_le(c, b, hi)
    adjacent = False
    while count_hi - count_lo > enumerate_below:
        mid = lo + 0.5 * (hi - lo)
        if mid <= lo or mid >= hi:
            adjacent = True  # every pair left in (lo, hi] has the same value
            break
        count_mid = _count_le(c, b, mid)
        if count_mid >= rank:
            hi, count_hi = mid, count_mid
        else:
            lo, count_lo = mid, count_mid
    # the pairs in (lo, hi]: for each c_i, the b_j with index in [ss(c_i - hi), ss(c_i - lo))
    first = np.searchsorted(b, c - hi, side="left")
    stop = np.searchsorted(b, c - lo, side="left")
    sizes = stop - first
    if adjacent:
        i = int(np.argmax(sizes > 0))
        return float(c[i] - b[first[i]])
    rows = np.repeat(np.arange(c.size), sizes)
    offsets = np.arange(rows.size) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    candidates = np.sort(c[rows] - b[first[rows] + offsets])
    return float(candidates[rank - count_lo - 1])
