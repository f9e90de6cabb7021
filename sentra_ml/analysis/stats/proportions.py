"""Two proportions, fixed-horizon: Fisher's exact test and the two-proportion z test with
Newcombe's interval (see `fixed_horizon`).

Reference: Newcombe (1998), "Interval estimation for the difference between independent
proportions", Stat. Med. 17.
"""

from __future__ import annotations

import math

from scipy import stats

from sentra_ml.analysis.stats.fixed_horizon import Alternative, FixedHorizonResult, check_confidence


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
    check_confidence(confidence)
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
    check_confidence(confidence)
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


def _counts(x: float, n: float, y: float, m: float) -> tuple[int, int, int, int]:
    xi, ni, yi, mi = (round(v) for v in (x, n, y, m))
    if min(xi, ni, yi, mi) < 0 or xi > ni or yi > mi:
        raise ValueError(f"invalid 2x2 table x={x} n={n} y={y} m={m}")
    return xi, ni, yi, mi
