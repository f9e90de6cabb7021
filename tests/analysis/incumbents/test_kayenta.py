"""Kayenta: one-minute series, Mann-Whitney classification, % of Pass, one judgement per step."""

from __future__ import annotations

import numpy as np
import pytest
from incumbent_helpers import drive

from sentra_ml.analysis.incumbents import Kayenta
from sentra_ml.analysis.incumbents.kayenta_judge import (
    Classification,
    Label,
    classify,
    mann_whitney_ci,
    remove_outliers,
    score,
    wilcoxon_diff,
)
from sentra_ml.analysis.types.labels import Action, Direction, MetricStatus

# Kayenta's own tie-out test (kayenta-mannwhitney MannWhitneySuite, values from R): 210 per-minute
# error percentages per cohort, mostly 0 (only the multiset matters to a rank test).
CANARY_NONZERO = [
    1.6666666666666572,
    3.703703703703681,
    1.5625000000000142,
    3.333333333333343,
    1.7543859649122737,
    1.8518518518518476,
    1.8518518518518476,
    1.5151515151515156,
    1.7857142857142776,
    1.3333333333333286,
    3.125000000000014,
    1.9607843137255117,
    1.4492753623188293,
    2.439024390243887,
    1.6393442622950687,
    1.6129032258064484,
    1.9607843137255117,
    1.5873015873015817,
    2.8169014084507182,
    3.0303030303030454,
    3.3898305084745743,
    1.234567901234584,
    1.7241379310344769,
    1.6949152542372872,
    1.470588235294116,
    1.3698630136986196,
    3.225806451612911,
    1.754385964912288,
    3.4482758620689538,
    3.333333333333343,
    1.818181818181813,
    1.4285714285714448,
    1.8867924528301927,
    2.0000000000000284,
    2.985074626865682,
    1.6666666666666714,
    1.5625,
    1.9230769230769198,
    1.8518518518518619,
    2.702702702702709,
    1.3513513513513544,
    1.818181818181813,
    1.6666666666666572,
    1.818181818181813,
    1.4285714285714164,
    4.1095890410959015,
    1.8518518518518619,
    1.8518518518518476,
    1.3888888888888857,
    1.8867924528301785,
    1.4285714285714164,
    1.5625,
    1.8867924528301927,
    2.040816326530603,
    1.818181818181813,
    1.6393442622950687,
    1.7241379310344769,
    1.5151515151515156,
    2.564102564102555,
    5.555555555555557,
    4.081632653061206,
    3.5714285714285836,
    2.040816326530603,
    3.1746031746031633,
]
BASELINE_NONZERO = [
    1.5625000000000142,
    1.3888888888888857,
    1.5384615384615614,
    1.492537313432834,
    1.6949152542373014,
    1.470588235294116,
    1.754385964912288,
    1.8518518518518619,
    1.6393442622950687,
    1.7241379310344769,
    1.5873015873015817,
    1.492537313432834,
    3.124999999999986,
    1.492537313432834,
    2.9850746268656536,
    2.5000000000000284,
    1.7857142857142776,
]


def _padded(nonzero: list[float]) -> np.ndarray:
    return np.array(nonzero + [0.0] * (210 - len(nonzero)))


def test_wilcoxon_diff_ties_out_with_r() -> None:
    x, y = _padded(CANARY_NONZERO), _padded(BASELINE_NONZERO)
    mu_min, mu_max, z = x.min() - y.max(), x.max() - y.min(), 1.9599639845400536
    assert (mu_min, mu_max) == pytest.approx((-3.124999999999986, 5.555555555555557))
    assert wilcoxon_diff(x, y, mu_min, z) == pytest.approx(17.090968923762254, abs=1e-9)
    assert wilcoxon_diff(x, y, mu_max, z) == pytest.approx(-20.997687930433106, abs=1e-9)
    assert wilcoxon_diff(x, y, mu_min, -z) == pytest.approx(21.01089689284236, abs=1e-9)
    assert wilcoxon_diff(x, y, mu_max, -z) == pytest.approx(-17.077759961353, abs=1e-9)
    # R's uniroot stops within 1e-4 of the jump at 0; the port lands on the jump itself
    result = mann_whitney_ci(x, y, 0.95)
    assert max(abs(result.estimate), abs(result.low), abs(result.high)) < 1e-4


def test_interval_brackets_the_shift() -> None:
    rng = np.random.default_rng(1)
    x, y = rng.normal(1.0, 1.0, 20), rng.normal(0.0, 1.0, 25)
    result = mann_whitney_ci(x, y, 0.98)
    assert result.low < result.estimate < result.high
    assert result.estimate == pytest.approx(float(np.median(np.subtract.outer(x, y))), abs=0.05)
    assert result.low > 0  # a one-sigma shift on 20 vs 25 points is found


def test_classifier_labels() -> None:
    base = [10.0, 11.0, 9.5, 10.2, 10.8, 9.9]
    assert classify(base, base).label is Label.PASS  # identical data
    assert classify([5.0] * 4, [5.0] * 4).label is Label.PASS
    high = [v * 1.5 for v in base]
    assert classify(high, base).label is Label.HIGH
    assert classify(base, high).label is Label.LOW  # direction "either" is Kayenta's default
    assert classify(base, high, direction=Direction.INCREASE).label is Label.PASS
    assert classify(high, base, allowed_increase=2.0).label is Label.PASS  # mean ratio 1.5 < 2
    assert classify([], base, nan_strategy="remove").label is Label.NODATA
    assert classify([float("nan")] * 6, base).label is Label.NODATA  # NaNs removed by default
    assert classify([float("nan")] * 6, base, nan_strategy="replace").label is Label.LOW
    assert classify([2.0] * 5, [1.0] * 5).label is Label.HIGH  # degenerate data get jittered


def test_outliers_are_removed_with_reduced_sensitivity() -> None:
    values = np.array([1.0, 1.1, 0.9, 1.05, 0.95, 1.0, 1.02, 0.98, 1.01, 0.99] * 10 + [50.0])
    assert remove_outliers(values).max() < 2.0
    assert remove_outliers(np.array([1.0, 2.0, 3.0])).size == 3


def test_score_counts_pass_among_classified_and_critical_failures_zero_it() -> None:
    p, h = Classification(Label.PASS), Classification(Label.HIGH)
    assert score([p, p, p, h]) == 75.0
    assert score([p, Classification(Label.NODATA)]) == 100.0  # Nodata is not counted
    assert score([Classification(Label.NODATA)]) == 0.0  # nothing classified: a score of 0
    assert score([p, p, Classification(Label.HIGH, critical=True)]) == 0.0


def test_healthy_canary_passes_one_judgement_per_step_and_promotes() -> None:
    run = drive(Kayenta(), until=1200)
    assert run.changes() == [(300, 25), (600, 50), (900, 100)]
    assert run.first(Action.PROMOTE) == 900
    assert run.final.score == 100.0


def test_three_percent_errors_roll_back_at_the_first_judgement() -> None:
    run = drive(Kayenta(), until=1200, p_canary=0.03, p_baseline=0.01)
    assert run.changes() == [(300, 0)]
    verdict = run.final
    assert verdict.action is Action.ROLLBACK and verdict.score == 50.0
    statuses = {e.metric: e.status for e in verdict.evidence}
    assert statuses == {"errors": MetricStatus.REGRESSION, "latency_ms.p99": MetricStatus.SAFE}
    errors = next(e for e in verdict.evidence if e.metric == "errors")
    assert errors.effect is not None and errors.effect.low > 0.5  # +100 % or so
    assert errors.details["canary_points"] == 5.0


def test_latency_regression_and_critical_metrics() -> None:
    run = drive(
        Kayenta(critical=("latency_ms.p99",), latency_stats=("p50", "p99", "mean")),
        until=600,
        median_canary=150.0,
    )
    assert run.first(Action.ROLLBACK) == 300 and run.final.score == 0.0


def test_marginal_score_holds_the_weight_once_then_fails() -> None:
    rule = Kayenta(latency_stats=("p50", "p90", "p99"))  # 4 metrics: one High scores 75
    run = drive(rule, until=900, p_canary=0.03, p_baseline=0.01)
    assert [(v.ts, v.action, v.weight) for v in run.verdicts if v.ts in (300, 600)] == [
        (300, Action.CONTINUE, 10.0),
        (600, Action.ROLLBACK, 0.0),
    ]
    assert "holding at 10 %" in next(v for v in run.verdicts if v.ts == 300).reasons[0]


def test_fewer_than_three_minutes_is_nodata() -> None:
    rule = Kayenta(interval_minutes=2)
    run = drive(rule, until=120, latency=None)
    assert run.final.action is Action.ROLLBACK and run.final.score == 0.0  # nothing to score
    assert {e.status for e in run.final.evidence} == {MetricStatus.NO_DATA}
    run = drive(Kayenta(), until=1200, latency=None)  # latency Nodata, errors alone decide
    assert run.first(Action.PROMOTE) == 900
