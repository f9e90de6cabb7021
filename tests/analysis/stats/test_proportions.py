"""Fisher's exact test and the two-proportion z test: against R and statsmodels."""

from __future__ import annotations

import math

import pytest
from statsmodels.stats.proportion import confint_proportions_2indep, proportions_ztest

from sentra_ml.analysis.stats.proportions import fisher_exact, two_proportion_z


def test_fisher_exact_matches_r_tea_tasting() -> None:
    """R: fisher.test(matrix(c(3, 1, 1, 3), 2), alternative = "greater")."""
    r = fisher_exact(3, 4, 1, 4, alternative="greater")
    assert r.p_value == pytest.approx(0.2429, abs=1e-4)
    assert r.estimate == pytest.approx(6.408309, rel=1e-4)
    assert r.low == pytest.approx(0.3135693, rel=1e-4)
    assert r.high == math.inf
    two = fisher_exact(3, 4, 1, 4)
    assert two.p_value == pytest.approx(0.4857, abs=1e-4)
    assert two.statistic == pytest.approx(9.0)  # the sample odds ratio
    assert two.low < 1 < two.high


@pytest.mark.parametrize(("x", "n", "y", "m"), [(30, 1000, 20, 1000), (7, 150, 40, 2000)])
def test_two_proportion_z_matches_statsmodels(x: int, n: int, y: int, m: int) -> None:
    z_ref, p_ref = proportions_ztest([x, y], [n, m], alternative="larger")
    r = two_proportion_z(x, n, y, m, alternative="greater")
    assert r.statistic == pytest.approx(z_ref)
    assert r.p_value == pytest.approx(p_ref)
    assert r.estimate == pytest.approx(x / n - y / m)
    # a one-sided 95 % bound is the lower end of the two-sided 90 % interval
    low90, _ = confint_proportions_2indep(x, n, y, m, method="newcomb", alpha=0.10)
    assert r.low == pytest.approx(low90, abs=1e-9) and r.high == 1.0
    two = two_proportion_z(x, n, y, m, alternative="two-sided")
    _, p_two = proportions_ztest([x, y], [n, m])
    low95, high95 = confint_proportions_2indep(x, n, y, m, method="newcomb", alpha=0.05)
    assert two.p_value == pytest.approx(p_two)
    assert (two.low, two.high) == pytest.approx((low95, high95), abs=1e-9)
    less = two_proportion_z(x, n, y, m, alternative="less")
    assert less.low == -1.0 and less.p_value == pytest.approx(1 - r.p_value)


def test_two_proportion_z_edge_cases() -> None:
    r = two_proportion_z(0, 100, 0, 100)
    assert r.statistic == 0.0 and r.p_value == 0.5
    with pytest.raises(ValueError):
        two_proportion_z(5, 0, 1, 10)
    with pytest.raises(ValueError):
        fisher_exact(5, 3, 1, 10)
