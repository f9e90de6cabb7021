"""Self-normalized mixture test of a mean: anytime type-I error, coverage, power, bookkeeping."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest

from sentra_ml.analysis.stats.meanshift import (
    SelfNormalizedMeanTest,
    log_mixture,
    mixture_radius,
)

ALPHA = 0.05
RUNS, LOOKS, BURN_IN = 500, 1000, 5
MARGIN = 0.02  # ~2 Monte-Carlo standard errors at 500 runs


def paths(
    d: np.ndarray, mu0: float = 0.0, mu_true: float = 0.0, interval: bool = True
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """What SelfNormalizedMeanTest reports after every increment, for many streams at once.

    Returns the log e-values above and below `mu0` and whether the interval covers `mu_true`
    (all True when `interval` is off).
    """
    burn, tested = d[:, :BURN_IN], d[:, BURN_IN:]
    rho = np.sum((burn - burn.mean(axis=1, keepdims=True)) ** 2, axis=1, keepdims=True)
    x = tested - mu0
    s, v = np.cumsum(x, axis=1), np.cumsum(x * x, axis=1)
    up, down = log_mixture(s, v, rho), log_mixture(-s, v, rho)
    if not interval:
        return up, down, np.ones_like(up, dtype=bool)
    n = np.arange(1, tested.shape[1] + 1, dtype=np.float64)
    y = tested - mu_true
    sy, qy = np.cumsum(y, axis=1), np.cumsum(y * y, axis=1)
    radius = mixture_radius(n, qy - sy * sy / n, rho, ALPHA)
    return up, down, np.abs(sy / n) <= radius


Generator = Callable[[np.random.Generator], np.ndarray]


@pytest.mark.parametrize(
    ("name", "draw", "seed"),
    [
        # symmetric, heavy-tailed, on a scale the test is never told
        ("student-t3 x 37", lambda r: r.standard_t(3, size=(RUNS, LOOKS + BURN_IN)) * 37.0, 1),
        ("normal", lambda r: r.normal(size=(RUNS, LOOKS + BURN_IN)), 2),
    ],
)
def test_anytime_type_one_error_and_coverage(name: str, draw: Generator, seed: int) -> None:
    up, down, covered = paths(draw(np.random.default_rng(seed)))
    level = math.log(1 / ALPHA)
    # measured: t3: 0.016 / 0.016, coverage 0.986; normal: 0.022 / 0.028, coverage 0.974
    assert np.mean((up >= level).any(axis=1)) <= ALPHA + MARGIN, name
    assert np.mean((down >= level).any(axis=1)) <= ALPHA + MARGIN, name
    assert np.mean(covered.all(axis=1)) >= 1 - ALPHA - MARGIN, name


def test_one_sided_null_holds_below_the_boundary() -> None:
    """Increments symmetric about -0.2 are inside "mean <= 0": still level alpha."""
    rng = np.random.default_rng(4)
    d = rng.standard_t(3, size=(RUNS, LOOKS + BURN_IN)) - 0.2
    up, _, _ = paths(d, mu0=0.0, interval=False)
    assert np.mean((up >= math.log(1 / ALPHA)).any(axis=1)) <= ALPHA  # measured 0.000


def test_power_for_a_one_sd_shift() -> None:
    rng = np.random.default_rng(5)
    up, _, _ = paths(rng.normal(1.0, 1.0, size=(RUNS, 200 + BURN_IN)), interval=False)
    hit = up >= math.log(1 / ALPHA)
    assert hit.any(axis=1).all()
    first = hit.argmax(axis=1) + 1
    assert np.median(first) <= 25  # measured: median 16 tested increments (10 %: 11, 90 %: 24)


def test_class_matches_the_vectorised_formulas() -> None:
    rng = np.random.default_rng(7)
    d = rng.standard_t(3, size=(1, 80)) * 37.0 + 20.0
    t = SelfNormalizedMeanTest()
    for i, value in enumerate(d[0]):
        t.update(float(value))
        if i < BURN_IN - 1:
            assert t.rho is None and t.n == 0
    assert t.n == 80 - BURN_IN
    burn = d[0, :BURN_IN]
    assert t.rho == pytest.approx(np.sum((burn - burn.mean()) ** 2))
    tested = d[0, BURN_IN:]
    for mu0 in (0.0, 20.0, 35.5):
        x = tested - mu0
        s, v = x.sum(), (x * x).sum()
        assert t.log_e_above(mu0) == pytest.approx(float(log_mixture(s, v, t.rho)), rel=1e-9)
        assert t.log_e_below(mu0) == pytest.approx(float(log_mixture(-s, v, t.rho)), rel=1e-9)
    assert t.estimate() == pytest.approx(tested.mean())
    low, high = t.interval(ALPHA)
    level = math.log(2 / ALPHA)
    # the ends are where a one-sided test reaches log(2 / alpha); inside, neither does
    assert t.log_e_above(low) == pytest.approx(level, abs=1e-6)
    assert t.log_e_below(high) == pytest.approx(level, abs=1e-6)
    for mu in np.linspace(low, high, 101)[1:-1]:
        assert t.log_e_above(mu) < level and t.log_e_below(mu) < level


def test_two_sided_mixture_is_dominated_on_the_favoured_side() -> None:
    """The half-normal mixture gives more evidence than the two-sided one when S > 0."""
    s, v, rho = np.array([0.5, 3.0, 30.0]), np.array([4.0, 9.0, 100.0]), 2.0
    two_sided = 0.5 * np.log(rho / (v + rho)) + s * s / (2 * (v + rho))
    one_sided = log_mixture(s, v, rho)
    assert np.all(one_sided > two_sided)
    assert np.all(one_sided <= two_sided + math.log(2) + 1e-12)


def test_before_and_during_burn_in_nothing_is_claimed() -> None:
    t = SelfNormalizedMeanTest(burn_in=3)
    assert t.log_e_above() == 0.0 and t.log_e_below() == 0.0
    assert t.interval(ALPHA) == (-math.inf, math.inf)
    assert math.isnan(t.estimate())
    for value in (1.0, 2.0, 3.0):
        t.update(value)
    assert t.n == 0 and t.rho == pytest.approx(2.0)
    assert t.interval(ALPHA) == (-math.inf, math.inf)
    t.update(10.0)  # one tested increment cannot reject anything
    assert t.interval(ALPHA) == (-math.inf, math.inf)


def test_constant_burn_in_and_invalid_arguments() -> None:
    t = SelfNormalizedMeanTest()
    for _ in range(5):
        t.update(4.0)
    assert t.rho is not None and t.rho > 0  # a floor keeps the mixture proper
    for _ in range(50):
        t.update(4.0)
    assert t.log_e_above(0.0) > math.log(1 / ALPHA)
    with pytest.raises(ValueError):
        SelfNormalizedMeanTest(burn_in=1)
    with pytest.raises(ValueError):
        SelfNormalizedMeanTest(rho_factor=0.0)
    with pytest.raises(ValueError):
        t.update(math.nan)


def test_radius_is_infinite_until_the_data_can_reject() -> None:
    radius = mixture_radius(np.arange(1, 15, dtype=np.float64), 10.0, 4.0, ALPHA)
    assert np.all(np.isinf(radius[:10]))
    assert np.all(np.isfinite(radius[10:]))
    assert np.all(np.diff(radius[10:]) < 0)
    assert np.isinf(mixture_radius(0, 0.0, 1.0, ALPHA))
