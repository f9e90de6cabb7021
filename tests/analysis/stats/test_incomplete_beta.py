"""The log incomplete beta: scipy's value where scipy is exact, quadrature where it underflows."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate
from scipy.special import betainc, betaln

from sentra_ml.analysis.stats.incomplete_beta import log_ibeta


def reference_log_ibeta(a: float, b: float, x: float) -> float:
    """log of the integral of the Beta(a, b) density over [0, x], by quadrature in logs.

    For a > 1 the density below `x` falls like `(t / x)^(a - 1)`: below `x e^(-80 / (a - 1))`
    lies less than e^-80 of the integral, so the quadrature starts there and sees the peak."""

    def log_density(t: float) -> float:
        return (a - 1) * math.log(t) + (b - 1) * math.log1p(-t) - betaln(a, b)

    peak = log_density(x)  # the density rises over [0, x] in the lower tail: its top is at x
    start = x * math.exp(-80.0 / (a - 1.0)) if a > 1.0 else 0.0
    value, _ = integrate.quad(
        lambda t: math.exp(log_density(t) - peak), start, x, epsabs=0.0, epsrel=1e-12, limit=500
    )
    return peak + math.log(value)


@pytest.mark.parametrize(
    ("a", "b", "x"),
    [(0.5, 0.5, 0.3), (3.0, 40.0, 0.01), (20.5, 3.5, 0.9), (2.0, 5.0, 1.0 - 1e-6)],
)
def test_it_is_scipys_value_where_that_is_exact(a: float, b: float, x: float) -> None:
    got = log_ibeta(np.array(a), np.array(b), x, 1.0 - x)
    assert float(got) == pytest.approx(math.log(betainc(a, b, x)), rel=1e-12)


@pytest.mark.parametrize(
    ("a", "b", "x"),
    [(300.5, 0.5, 0.01), (1e6 + 0.5, 0.5, 1.0 - 1e-3), (5000.0, 2.0, 0.5)],
)
def test_it_keeps_the_digits_where_scipy_underflows(a: float, b: float, x: float) -> None:
    assert betainc(a, b, x) < 1e-250  # the continued fraction answers here, not scipy
    got = float(log_ibeta(np.array(a), np.array(b), x, 1.0 - x))
    assert math.isfinite(got)
    assert got == pytest.approx(reference_log_ibeta(a, b, x), rel=1e-9)


def test_it_takes_arrays_and_keeps_their_shape() -> None:
    a = np.array([[0.5, 300.5], [2.0, 5000.0]])
    b = np.array([[0.5, 0.5], [5.0, 2.0]])
    got = log_ibeta(a, b, 0.01, 0.99)
    assert got.shape == (2, 2)
    for i in range(2):
        for j in range(2):
            one = float(log_ibeta(np.array(a[i, j]), np.array(b[i, j]), 0.01, 0.99))
            assert got[i, j] == pytest.approx(one, rel=1e-12)
