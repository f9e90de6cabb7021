"""Fixed-horizon tests against reference values, and Kayenta's Mann-Whitney classifier."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scipy import stats
from statsmodels.stats.proportion import confint_proportions_2indep, proportions_ztest

from sentra_ml.analysis.stats.fixed_horizon import (
    _moses_k_exact,
    _moses_k_normal,
    _pairwise_order_stats,
    _u_null_pmf,
    fisher_exact,
    kayenta_classify,
    kayenta_compare,
    kolmogorov_smirnov,
    mann_whitney,
    two_proportion_z,
)
from sentra_ml.analysis.types import Direction

# --- Mann-Whitney / Hodges-Lehmann -----------------------------------------------------------


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


# --- Kolmogorov-Smirnov ----------------------------------------------------------------------


def test_kolmogorov_smirnov_matches_scipy_and_bounds_the_distance() -> None:
    rng = np.random.default_rng(4)
    c, b = rng.normal(0.3, 1.0, 400), rng.normal(0.0, 1.0, 500)
    r = kolmogorov_smirnov(c, b)
    ref = stats.ks_2samp(c, b)
    assert (r.statistic, r.p_value) == (ref.statistic, ref.pvalue)
    true_distance = 2 * stats.norm.cdf(0.15) - 1  # sup |Phi(x) - Phi(x - 0.3)|
    assert r.low <= true_distance <= r.high


# --- proportions -----------------------------------------------------------------------------


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


# --- Kayenta's classifier: cases from Kayenta's own ClassifierSuite ---------------------------

PASS_CANARY = [
    9.7767343120109462, 10.587071850477695, 7.8375506388901766, 9.3243326886113884,
    8.3774505409784421, 8.9359264399606282, 8.2707663324728511, 9.7484308126716925,
    11.623746715547156, 9.2753442679633942, 8.1538047749171518, 10.562020975754294,
    13.498135575451835, 11.054419256110332, 6.9538903590055092, 12.521008342195479,
    9.0216358603546443, 4.9234856699531662, 11.251360203607172, 11.598449508040337,
    8.435232204668182, 11.110228516867279, 10.70063380164755, 8.9212773652115249,
    10.086167067942661, 11.42107515483087, 9.3792347813644952, 7.7980320148552593,
    10.62339807275746, 11.909642062063739,
]  # fmt: skip
HIGH_CANARY = [
    20.878412601720026, 21.78550581191622, 19.70828084717019, 15.859946903461562,
    19.510058772176841, 19.392005525270303, 22.926528314912101, 17.156530276709894,
    18.655117916226171, 23.422607911610392, 24.055817684156644, 22.62689958516501,
    21.979472967817678, 21.659318607218694, 20.067707574072426, 22.119570836305414,
    16.44037132663307, 21.559622826341268, 21.000181443489218, 17.779369411412663,
    17.806006358943584, 18.537200618386109, 20.555550300210797, 19.552928184468378,
    21.771118944087092, 21.809622806176627, 20.961762909905271, 20.977571577503021,
    19.106303205498794, 16.976918966987078,
]  # fmt: skip
BASELINE = [
    11.1453586774086, 9.9618059885597017, 7.068574306369829, 7.3012661810483657,
    9.7944630265656727, 9.6037918603687302, 6.1867793350339388, 12.345599159550174,
    10.371891733859533, 8.6094300785016724, 9.913162673361084, 10.361375299003466,
    14.206800387518818, 10.946153754753301, 10.215876627044048, 11.739760899484603,
    10.907627468626439, 12.823353694464775, 8.1018609771732137, 8.4981616408804932,
    12.113441374697231, 13.272210809932028, 10.114579381663297, 6.9463958767978067,
    6.2105278541727778, 10.160401684903775, 8.3457712066455461, 8.383822063895833,
    7.0020205070083765, 10.755757401808442,
]  # fmt: skip
HIGH_BASELINE = [
    20.758113589510348, 22.802059629464559, 20.612340363492208, 20.973274654749986,
    23.469237330498622, 21.53133988954805, 21.767353687439805, 18.308050730374301,
    19.062145167827566, 25.879498436001779, 18.982629726336128, 19.387920182269266,
    18.995398251246982, 24.228420230932805, 20.050985172694688, 18.2340451091756,
    17.870515494460435, 23.058103863806618, 18.400259567501134, 16.971352091177167,
    19.467529066052151, 17.90465423342031, 17.553948617825831, 16.104611843907193,
    24.38171081433039, 15.919294339922635, 20.479409626304697, 19.08307201492406,
    17.455788050722866, 18.853826823235142,
]  # fmt: skip


@pytest.mark.parametrize(
    ("canary", "baseline", "direction", "expected"),
    [
        (PASS_CANARY, BASELINE, "either", "Pass"),
        (HIGH_CANARY, BASELINE, "either", "High"),
        (PASS_CANARY, HIGH_BASELINE, "either", "Low"),
        (PASS_CANARY, HIGH_BASELINE, "increase", "Pass"),
        (HIGH_CANARY, BASELINE, "decrease", "Pass"),
        (HIGH_CANARY, BASELINE, "increase", "High"),
        (PASS_CANARY, HIGH_BASELINE, "decrease", "Low"),
    ],
)
def test_kayenta_classifier_suite(
    canary: list[float], baseline: list[float], direction: str, expected: str
) -> None:
    assert kayenta_classify(canary, baseline, direction, 0.10, 0.95) == expected


def test_kayenta_effect_size_and_critical_thresholds() -> None:
    high_c, high_b = [20.0, 22.0, 21.0, 25.0, 30.0], [1.0, 2.2, 1.1, 2.5, 3.0]
    strict = {"allowed_decrease": 0.8, "allowed_increase": 1.2}
    assert kayenta_classify(high_c, high_b, "either", 0.10, 0.95, **strict) == "High"
    assert kayenta_classify(PASS_CANARY, HIGH_BASELINE, "decrease", 0.10, 0.95, **strict) == "Low"
    # a real decrease, but the mean ratio 0.57 is not below the allowed 0.5
    loose = {"allowed_decrease": 0.5, "allowed_increase": 1.0}
    low_c = [10.0, 12.2, 10.1, 12.5, 23.0]
    assert kayenta_classify(low_c, high_c, "either", 0.10, 0.95, **loose) == "Pass"
    r = kayenta_compare(high_c, high_b, "either", 0.10, 0.95, critical=True, critical_increase=1.2)
    assert r.label == "High" and r.critical
    assert r.deviation == pytest.approx(np.mean(high_c) / np.mean(high_b))
    crit_c, crit_b = [2.0, 2.0, 2.0, 2.0, 3.0], [10.0, 20.2, 10.1, 20.5, 30.0]
    r = kayenta_compare(crit_c, crit_b, "either", 0.10, 0.95, critical=True, critical_decrease=1.2)
    assert r.label == "Low" and r.critical
    r = kayenta_compare(HIGH_CANARY, BASELINE, "increase", 0.10, 0.95)
    assert r.label == "High" and not r.critical


def test_kayenta_special_cases() -> None:
    assert kayenta_classify([], [1.0, 2.0], "either") == "Nodata"
    assert kayenta_classify([math.nan], [1.0, 2.0], "either") == "Nodata"
    nodata = kayenta_compare([], [1.0], "either", critical=True)
    assert nodata.label == "Nodata" and nodata.critical
    assert kayenta_compare([], [1.0], "either", nan_strategy="replace").label == "Pass"
    assert kayenta_classify([3.0, 1.0, 2.0], [1.0, 2.0, 3.0], "either") == "Pass"  # identical
    assert kayenta_classify([5.0, 5.0], [5.0, 5.0, 5.0], "either") == "Pass"  # one value
    # each side constant, different: Kayenta's jitter limit
    assert kayenta_classify([7.0] * 20, [5.0] * 20, "either") == "High"
    assert kayenta_classify([7.0] * 20, [5.0] * 20, "decrease") == "Pass"
    assert kayenta_classify([3.0] * 20, [5.0] * 20, "either") == "Low"
    # Sentra's Direction values are accepted as they are
    assert kayenta_classify(HIGH_CANARY, BASELINE, Direction.INCREASE, 0.10, 0.95) == "High"
