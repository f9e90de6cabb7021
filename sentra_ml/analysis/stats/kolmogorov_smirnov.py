"""The two-sample Kolmogorov-Smirnov test with a DKW-Massart interval for the distance
(fixed-horizon; see `fixed_horizon`)."""

from __future__ import annotations

import math

from scipy import stats

from sentra_ml.analysis.stats.fixed_horizon import (
    FixedHorizonResult,
    Values,
    check_confidence,
    finite_values,
)


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
    c, b = finite_values(canary, "canary"), finite_values(baseline, "baseline")
    check_confidence(confidence)
    res = stats.ks_2samp(c, b)
    d = float(res.statistic)
    log_term = math.log(4.0 / (1.0 - confidence))
    eps = math.sqrt(log_term / (2 * c.size)) + math.sqrt(log_term / (2 * b.size))
    return FixedHorizonResult(
        d, float(res.pvalue), d, max(0.0, d - eps), min(1.0, d + eps), "kolmogorov-smirnov"
    )
