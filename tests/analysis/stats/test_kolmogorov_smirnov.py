"""The two-sample Kolmogorov-Smirnov test: against scipy, and its interval for the distance."""

from __future__ import annotations

import numpy as np
from scipy import stats

from sentra_ml.analysis.stats.kolmogorov_smirnov import kolmogorov_smirnov


def test_kolmogorov_smirnov_matches_scipy_and_bounds_the_distance() -> None:
    rng = np.random.default_rng(4)
    c, b = rng.normal(0.3, 1.0, 400), rng.normal(0.0, 1.0, 500)
    r = kolmogorov_smirnov(c, b)
    ref = stats.ks_2samp(c, b)
    assert (r.statistic, r.p_value) == (ref.statistic, ref.pvalue)
    true_distance = 2 * stats.norm.cdf(0.15) - 1  # sup |Phi(x) - Phi(x - 0.3)|
    assert r.low <= true_distance <= r.high
