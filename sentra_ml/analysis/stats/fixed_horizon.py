"""Fixed-horizon two-sample tests, for a Kayenta-compatible mode.

These tests are valid once, at a sample size fixed in advance; looking repeatedly and stopping
at the first significant result inflates their error rate. They are here to reproduce what a
Kayenta canary analysis would conclude from the same data, next to the anytime-valid tests.

References: Hollander, Wolfe & Chicken (2014), "Nonparametric Statistical Methods", 3rd ed.,
ch. 4.3 (Hodges-Lehmann shift estimate and Moses' distribution-free interval); Newcombe (1998),
"Interval estimation for the difference between independent proportions", Stat. Med. 17;
Spinnaker Kayenta, `kayenta-judge` `MannWhitneyClassifier` and `NetflixACAJudge`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray
from scipy import stats

from sentra_ml.analysis.types import Direction

FloatArray = NDArray[np.float64]
Alternative = Literal["two-sided", "greater", "less"]
Values = Sequence[float] | FloatArray

# pairwise differences are materialised up to this many (8 MB); beyond, order statistics of
# the differences are selected by bisection on their value, in O((n + m) log m) per step
_MAX_PAIRS = 1_000_000
# the exact null law of U is used for the Moses interval up to this n * m
_EXACT_PAIRS = 2_500


@dataclass(frozen=True)
class FixedHorizonResult:
    """One fixed-horizon test: its statistic and p-value, an effect estimate and its interval."""

    statistic: float
    p_value: float
    estimate: float
    low: float
    high: float
    method: str


# --- Mann-Whitney / Hodges-Lehmann -----------------------------------------------------------


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
    c, b = _clean(canary, "canary"), _clean(baseline, "baseline")
    _check_confidence(confidence)
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


# --- Kayenta's Mann-Whitney classifier ---------------------------------------------------------


@dataclass(frozen=True)
class KayentaClassification:
    """What Kayenta's Mann-Whitney classifier concludes for one metric.

    `label` is "Pass", "High", "Low" or "Nodata"; `critical` whether a High/Low of a critical
    metric fails the whole canary; `deviation` the ratio of means canary / baseline (nan when a
    mean is 0); `estimate`, `low`, `high` the Hodges-Lehmann shift and its interval.
    """

    label: str
    critical: bool
    deviation: float
    estimate: float
    low: float
    high: float
    reason: str


def kayenta_compare(
    canary: Values,
    baseline: Values,
    direction: Direction | str = Direction.EITHER,
    tolerance: float = 0.25,
    confidence: float = 0.98,
    *,
    allowed_increase: float = 1.0,
    allowed_decrease: float = 1.0,
    critical: bool = False,
    critical_increase: float = 1.0,
    critical_decrease: float = 1.0,
    nan_strategy: Literal["remove", "replace"] = "remove",
) -> KayentaClassification:
    """Kayenta's `MannWhitneyClassifier`, as documented by Kayenta (its `kayenta-judge` source).

    The steps, in Kayenta's order (canary = "experiment", baseline = "control"):

    1. NaNs are removed (`nan_strategy="remove"`, Kayenta's default) or replaced by 0.
    2. No values on either side: "Nodata" with "remove" (critical if the metric is), "Pass"
       with "replace".
    3. The same values on both sides (as multisets), or a single distinct value overall: "Pass".
    4. Mann-Whitney with the Hodges-Lehmann estimate `est` of canary - baseline and its
       interval `(low, high)` at `confidence` (0.98 in `NetflixACAJudge`). If each side is
       constant, Kayenta adds tiny Gaussian noise (sd 1e-5 x the value) to break the ties; here
       that limit is taken exactly: `est = low = high = canary - baseline`.
    5. The bounds are a fraction of the estimate itself: `+-tolerance * |est|`. "High" when the
       direction allows an increase and `low > tolerance * |est|`; "Low" when it allows a
       decrease and `high < -tolerance * |est|`. Either also needs the effect size
       `deviation = mean(canary) / mean(baseline)` to reach `allowed_increase` (High) or
       `allowed_decrease` (Low) (Kayenta's `effectSize.allowedIncrease / allowedDecrease`,
       default 1.0; ignored when the deviation is nan).
    6. A High/Low of a `critical` metric is critical when the deviation also reaches
       `critical_increase` / `critical_decrease` (`effectSize.criticalIncrease / Decrease`).

    Kayenta does not use the p-value: a High needs `low > 0`, i.e. an interval that excludes
    no shift, which is the test's rejection at `1 - confidence`. Kayenta's judge also removes
    outliers (IQR fences, factor 3) before classifying; that preprocessing is not done here.
    Kayenta's interval inverts the normal approximation (R's `wilcox.test` asymptotic code);
    this one is exact for small samples, so labels can differ at the margin.

    >>> rng = np.random.default_rng(5)
    >>> base = rng.normal(100.0, 5.0, 60)
    >>> kayenta_compare(base + 30.0, base, "increase").label
    'High'
    """
    d = Direction(direction)
    c = np.asarray(canary, dtype=np.float64).ravel()
    b = np.asarray(baseline, dtype=np.float64).ravel()
    if nan_strategy == "remove":
        c, b = c[~np.isnan(c)], b[~np.isnan(b)]
    else:
        c, b = np.nan_to_num(c, nan=0.0), np.nan_to_num(b, nan=0.0)
    nan3 = (math.nan, math.nan, math.nan)
    if c.size == 0 or b.size == 0:
        if nan_strategy == "remove":
            return KayentaClassification("Nodata", critical, 1.0, *nan3, "missing data")
        return KayentaClassification("Pass", False, 1.0, *nan3, "missing data")
    if c.size == b.size and np.array_equal(np.sort(c), np.sort(b)):
        return KayentaClassification("Pass", False, 1.0, 0.0, 0.0, 0.0, "identical data")
    if np.unique(np.concatenate((c, b))).size == 1:
        return KayentaClassification("Pass", False, 1.0, 0.0, 0.0, 0.0, "a single value")

    if np.unique(c).size == 1 and np.unique(b).size == 1:
        est = low = high = float(c[0] - b[0])
    else:
        mw = mann_whitney(c, b, confidence)
        est, low, high = mw.estimate, mw.low, mw.high
    mean_c, mean_b = float(np.mean(c)), float(np.mean(b))
    deviation = math.nan if mean_b == 0.0 or mean_c == 0.0 else mean_c / mean_b
    bound = tolerance * abs(est)
    is_high = d in (Direction.INCREASE, Direction.EITHER) and low > bound
    is_low = d in (Direction.DECREASE, Direction.EITHER) and high < -bound
    if not math.isnan(deviation):
        is_high = is_high and deviation >= allowed_increase
        is_low = is_low and deviation <= allowed_decrease
    label = "High" if is_high else "Low" if is_low else "Pass"
    is_critical = False
    if critical and label != "Pass":
        limit_ok = (
            deviation >= critical_increase if label == "High" else deviation <= critical_decrease
        )
        is_critical = math.isnan(deviation) or limit_ok
    reason = f"hodges-lehmann {est:.6g} in [{low:.6g}, {high:.6g}], bound +-{bound:.6g}"
    return KayentaClassification(label, is_critical, deviation, est, low, high, reason)


def kayenta_classify(
    canary: Values,
    baseline: Values,
    direction: Direction | str,
    tolerance: float = 0.25,
    confidence: float = 0.98,
    *,
    allowed_increase: float = 1.0,
    allowed_decrease: float = 1.0,
) -> str:
    """The label ("Pass", "High", "Low", "Nodata") of Kayenta's Mann-Whitney classifier.

    As documented by Kayenta; see `kayenta_compare` for the rule and for critical metrics.

    >>> kayenta_classify([10.0, 11.0, 12.0, 10.5], [10.2, 11.1, 11.9, 10.4], "either")
    'Pass'
    >>> kayenta_classify([], [1.0], "increase")
    'Nodata'
    """
    return kayenta_compare(
        canary,
        baseline,
        direction,
        tolerance,
        confidence,
        allowed_increase=allowed_increase,
        allowed_decrease=allowed_decrease,
    ).label


# --- Kolmogorov-Smirnov ----------------------------------------------------------------------


def kolmogorov_smirnov(
    canary: Values, baseline: Values, confidence: float = 0.95
) -> FixedHorizonResult:
    """Two-sample Kolmogorov-Smirnov test (scipy: exact for small samples, else asymptotic).

    `estimate` is the statistic D = sup |F_canary - F_baseline|, and `(low, high)` an interval
    for the population distance from the Dvoretzky-Kiefer-Wolfowitz-Massart inequality applied
    to each empirical CDF at `(1 - confidence) / 2`: `D +- (eps_n + eps_m)`, clipped to [0, 1].

    >>> r = kolmogorov_smirnov([1.0, 2.0, 3.0, 4.5], [2.2, 3.3, 5.0, 6.0, 7.0])
    >>> round(r.statistic, 2), round(r.p_value, 4)
    (0.6, 0.2857)
    """
    c, b = _clean(canary, "canary"), _clean(baseline, "baseline")
    _check_confidence(confidence)
    res = stats.ks_2samp(c, b)
    d = float(res.statistic)
    log_term = math.log(4.0 / (1.0 - confidence))
    eps = math.sqrt(log_term / (2 * c.size)) + math.sqrt(log_term / (2 * b.size))
    return FixedHorizonResult(
        d, float(res.pvalue), d, max(0.0, d - eps), min(1.0, d + eps), "kolmogorov-smirnov"
    )


# --- proportions -----------------------------------------------------------------------------


def fisher_exact(
    x: float,
    n: float,
    y: float,
    m: float,
    alternative: Alternative = "two-sided",
    confidence: float = 0.95,
) -> FixedHorizonResult:
    """Fisher's exact test of `x` events in `n` canary trials against `y` in `m` baseline ones.

    `statistic` is the sample odds ratio; `estimate` the conditional maximum-likelihood odds
    ratio with its exact conditional interval (as R's `fisher.test`; one-sided for a one-sided
    alternative). "greater" means the canary's odds are higher. Counts are rounded to integers.

    >>> r = fisher_exact(3, 4, 1, 4, alternative="greater")
    >>> round(r.p_value, 4), round(r.estimate, 3), round(r.low, 3), r.high
    (0.2429, 6.408, 0.314, inf)
    """
    xi, ni, yi, mi = _counts(x, n, y, m)
    _check_confidence(confidence)
    table = [[xi, ni - xi], [yi, mi - yi]]
    res = stats.fisher_exact(table, alternative=alternative)
    odds = stats.contingency.odds_ratio(table, kind="conditional")
    ci = odds.confidence_interval(confidence_level=confidence, alternative=alternative)
    return FixedHorizonResult(
        float(res.statistic),
        float(res.pvalue),
        float(odds.statistic),
        float(ci.low),
        float(ci.high),
        "fisher exact (conditional mle odds ratio)",
    )


def two_proportion_z(
    x: float,
    n: float,
    y: float,
    m: float,
    alternative: Alternative = "greater",
    confidence: float = 0.95,
) -> FixedHorizonResult:
    """Two-proportion z-test (pooled variance) of the canary rate `x/n` against `y/m`.

    `estimate` is the risk difference `x/n - y/m` and `(low, high)` Newcombe's hybrid score
    interval (method 10, from the two Wilson intervals), one-sided for a one-sided alternative
    (the open end is then +-1). Counts may be non-integer.

    >>> r = two_proportion_z(30, 1000, 20, 1000)
    >>> round(r.statistic, 4), round(r.p_value, 4), round(r.estimate, 3)
    (1.4322, 0.076, 0.01)
    """
    for name, v in (("x", x), ("n", n), ("y", y), ("m", m)):
        if not math.isfinite(v) or v < 0:
            raise ValueError(f"{name} must be a finite count >= 0, got {v}")
    if n <= 0 or m <= 0 or x > n or y > m:
        raise ValueError(f"need 0 <= x <= n, 0 <= y <= m and n, m > 0; got {x}/{n}, {y}/{m}")
    _check_confidence(confidence)
    p1, p2 = x / n, y / m
    pooled = (x + y) / (n + m)
    se = math.sqrt(pooled * (1.0 - pooled) * (1.0 / n + 1.0 / m))
    z = 0.0 if se == 0 else (p1 - p2) / se
    if alternative == "greater":
        p_value = float(stats.norm.sf(z))
    elif alternative == "less":
        p_value = float(stats.norm.cdf(z))
    else:
        p_value = float(2.0 * stats.norm.sf(abs(z)))
    one_sided = alternative != "two-sided"
    q = float(stats.norm.ppf(confidence if one_sided else 0.5 + confidence / 2.0))
    l1, u1 = _wilson(x, n, q)
    l2, u2 = _wilson(y, m, q)
    d = p1 - p2
    low = d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    high = d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    if alternative == "greater":
        high = 1.0
    elif alternative == "less":
        low = -1.0
    return FixedHorizonResult(z, p_value, d, low, high, "two-proportion z (newcombe interval)")


def _wilson(x: float, n: float, z: float) -> tuple[float, float]:
    z2 = z * z
    center = (x + z2 / 2.0) / (n + z2)
    half = z * math.sqrt(max(x * (n - x) / n, 0.0) + z2 / 4.0) / (n + z2)
    return (max(0.0, center - half), min(1.0, center + half))


# --- helpers ---------------------------------------------------------------------------------


def _clean(values: Values, name: str) -> FloatArray:
    arr = np.array(values, dtype=np.float64).ravel()
    if arr.size == 0:
        raise ValueError(f"{name}: no values")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name}: values must be finite")
    return arr


def _check_confidence(confidence: float) -> None:
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")


def _counts(x: float, n: float, y: float, m: float) -> tuple[int, int, int, int]:
    xi, ni, yi, mi = (round(v) for v in (x, n, y, m))
    if min(xi, ni, yi, mi) < 0 or xi > ni or yi > mi:
        raise ValueError(f"invalid 2x2 table x={x} n={n} y={y} m={m}")
    return xi, ni, yi, mi
