"""Holt forecasts with their intervals, breach outlooks and multi-window burn-rate alerts."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sentra_ml.analysis.forecast import (
    BurnWindow,
    Holt,
    MultiWindowBurnRate,
    burn_rate,
    fit_holt,
    outlook,
)


def _fed(values: np.ndarray, **kw: float) -> Holt:
    model = Holt(**kw)
    for v in values:
        model.update(float(v))
    return model


def test_holt_follows_a_trend_and_its_interval_widens() -> None:
    rng = np.random.default_rng(0)
    model = _fed(100 + 0.5 * np.arange(200) + rng.normal(0, 1, 200), alpha=0.3, beta=0.05, phi=1.0)
    assert model.trend == pytest.approx(0.5, abs=0.15)
    assert model.forecast(10) == pytest.approx(100 + 0.5 * 209, abs=3)
    assert model.variance(1) < model.variance(10) < model.variance(30)
    assert model.sigma == pytest.approx(1.0, rel=0.3)


def test_holt_prediction_intervals_cover_at_their_level() -> None:
    """90 % intervals of a random walk with drift (which ETS(A,A,N) describes) cover ~90 %."""
    covered = 0
    trials = 300
    for seed in range(trials):
        rng = np.random.default_rng(seed)
        y = np.cumsum(0.1 + rng.normal(0, 1, 130))
        model = _fed(y[:120], alpha=0.9, beta=0.01, phi=1.0)
        sd = math.sqrt(model.variance(10))
        covered += abs(y[129] - model.forecast(10)) <= 1.6449 * sd
    assert 0.84 <= covered / trials <= 0.96


def test_fit_holt_uses_statsmodels_and_rejects_short_series() -> None:
    rng = np.random.default_rng(1)
    model = fit_holt(list(10 + 0.2 * np.arange(80) + rng.normal(0, 0.5, 80)))
    assert 0 < model.alpha <= 1 and 0 <= model.beta <= model.alpha and model.n == 80
    with pytest.raises(ValueError, match="at least 10"):
        fit_holt([1.0, 2.0])


def test_outlook_warns_before_a_rising_series_crosses() -> None:
    rng = np.random.default_rng(2)
    rising = _fed(0.001 + 0.0002 * np.arange(30) + rng.normal(0, 0.0001, 30), phi=1.0)
    ahead = outlook(rising, objective=0.01, horizon_steps=60, step_seconds=60)
    assert 0 < ahead.seconds_to_breach < 60 * 60 and ahead.p_breach > 0.95
    flat = _fed(0.001 + rng.normal(0, 0.0001, 30), phi=1.0)
    calm = outlook(flat, objective=0.01, horizon_steps=60, step_seconds=60)
    assert math.isinf(calm.seconds_to_breach) and calm.p_breach < 0.05
    assert outlook(Holt(), 1.0, 5, 1.0).p_breach == 0.0  # no data: no opinion


def test_burn_rate_and_multiwindow_alert() -> None:
    assert burn_rate(0.005, 0.995) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="slo_target"):
        burn_rate(0.1, 1.0)
    alert = MultiWindowBurnRate(0.995, windows=(BurnWindow(3600, 300, 14.4),))
    for minute in range(60):  # an hour on budget
        alert.update(minute * 60.0, 1000, 5)
    assert not alert.firing
    fired_at = None
    for minute in range(60, 180):  # 20x burn from minute 60
        alert.update(minute * 60.0, 1000, 100)
        if alert.firing and fired_at is None:
            fired_at = minute
    # the 1 h window passes 14.4x once 0.72 h of it is bad: 44 min (the workbook's figure)
    assert fired_at is not None and 60 + 42 <= fired_at <= 60 + 45
