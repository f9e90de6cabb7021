"""The straight-line trend: exact on a line, honest intervals on white and on correlated noise."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sentra_ml.analysis.forecast import LinearTrend


def _trend(values: list[float], step: float = 2.0, window: int = 60) -> LinearTrend:
    trend = LinearTrend(window)
    for k, y in enumerate(values):
        trend.update(1000.0 + step * k, y)
    return trend


def test_a_line_is_fitted_exactly_and_its_crossing_foreseen() -> None:
    trend = _trend([0.01 * k for k in range(100)])  # +0.5 % a second, only the last 60 kept
    level, slope, *_ = trend.fit() or (math.nan, math.nan)
    assert (level, slope) == (pytest.approx(0.99), pytest.approx(0.005))
    assert (trend.n, trend.span) == (60, 118.0)
    ahead = trend.outlook(1.5, 600.0)
    assert ahead.seconds_to_breach == pytest.approx(102.0)
    assert ahead.p_breach == pytest.approx(1.0)
    assert trend.outlook(0.5, 600.0).seconds_to_breach == 0.0  # already beyond
    assert trend.outlook(10.0, 600.0).seconds_to_breach == math.inf  # not within the horizon


def test_a_flat_series_is_not_heading_anywhere() -> None:
    rng = np.random.default_rng(1)
    ahead = _trend(list(rng.normal(0.0, 0.01, 60))).outlook(0.25, 600.0)
    assert ahead.p_breach < 1e-6 and ahead.seconds_to_breach == math.inf


@pytest.mark.parametrize(("rho", "at_least"), [(0.0, 0.92), (0.8, 0.85)])
def test_the_interval_at_the_horizon_covers_the_true_level(rho: float, at_least: float) -> None:
    """The true line (flat at 0) stays under the 95 % upper bound about as often as it should.
    With AR(1) noise of 0.8 the widening by the residuals' autocorrelation lifts coverage from
    70 % to 89 % (measured); 60 residuals estimate the autocorrelation a little low."""
    rng = np.random.default_rng(7)
    covered, runs = 0, 400
    for _ in range(runs):
        noise, e = [], 0.0
        for _ in range(60):
            e = rho * e + rng.normal(0.0, 0.01) * math.sqrt(1 - rho * rho)
            noise.append(e)
        covered += _trend(noise).outlook(0.25, 120.0).high_at_horizon >= 0.0
    assert at_least <= covered / runs <= 0.99


def test_bad_input_is_refused() -> None:
    with pytest.raises(ValueError, match="window"):
        LinearTrend(2)
    trend = _trend([0.0, 1.0])
    with pytest.raises(ValueError, match="t: "):
        trend.update(1000.0, 3.0)
    assert trend.fit() is None and math.isnan(trend.level)  # two points are no trend
