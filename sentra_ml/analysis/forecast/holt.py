"""Holt's linear method as the ETS(A,Ad,N) state-space model: streaming updates, forecasts and
exact prediction variances (Hyndman, Koehler, Ord & Snyder 2008, ch. 6), so that a forecast
carries its own uncertainty. `fit_holt` estimates the smoothing from history with statsmodels.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np


class Holt:
    """Level + damped trend, updated one observation at a time (state-space form:
    l_t = l + phi b + alpha e,  b_t = phi b + beta e,  with e the one-step error).

    >>> h = Holt(alpha=0.5, beta=0.2)
    >>> for y in [1.0, 2.0, 3.0, 4.0, 5.0]:
    ...     h.update(y)
    >>> round(h.forecast(1), 2) > 5.0
    True
    """

    def __init__(self, alpha: float = 0.3, beta: float = 0.05, phi: float = 0.98) -> None:
        if not (0 < alpha <= 1 and 0 <= beta <= alpha and 0 < phi <= 1):
            raise ValueError("need 0 < alpha <= 1, 0 <= beta <= alpha, 0 < phi <= 1")
        self.alpha = alpha
        self.beta = beta
        self.phi = phi
        self.level: float | None = None
        self.trend = 0.0
        self.n = 0
        self._sq_error = 0.0  # sum of squared one-step errors, for sigma

    def update(self, y: float) -> None:
        self.n += 1
        if self.level is None:
            self.level = y
            return
        if self.n == 2:  # seed the trend with the first difference instead of zero
            self.trend = y - self.level
            self.level = y
            return
        predicted = self.level + self.phi * self.trend
        error = y - predicted
        self._sq_error += error * error
        self.level = predicted + self.alpha * error
        self.trend = self.phi * self.trend + self.beta * error

    @property
    def sigma(self) -> float:
        """Standard deviation of one-step errors (nan before four observations)."""
        return math.sqrt(self._sq_error / (self.n - 2)) if self.n > 3 else math.nan

    def forecast(self, h: int) -> float:
        """The mean `h` steps ahead."""
        if self.level is None:
            raise ValueError("no observation yet")
        damp = sum(self.phi**j for j in range(1, h + 1))
        return self.level + damp * self.trend

    def variance(self, h: int) -> float:
        """Forecast variance `h` steps ahead: sigma^2 (1 + sum_{j<h} c_j^2) with
        c_j = alpha + alpha*beta*(phi + ... + phi^j), the ETS(A,Ad,N) result."""
        sigma2 = self.sigma**2
        total = 1.0
        damp = 0.0
        for j in range(1, h):
            damp += self.phi**j
            c = self.alpha + self.beta * damp
            total += c * c
        return sigma2 * total


def fit_holt(series: Sequence[float]) -> Holt:
    """A Holt model with smoothing estimated from `series` by statsmodels' ETS maximum likelihood,
    then run over the series so that its state is current."""
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    y = np.asarray(series, dtype=float)
    if len(y) < 10:
        raise ValueError(f"series: need at least 10 points to fit, got {len(y)}")
    fit = ETSModel(y, error="add", trend="add", damped_trend=True).fit(disp=False)
    params = dict(zip(fit.param_names, fit.params, strict=True))
    alpha = float(np.clip(params["smoothing_level"], 1e-3, 1.0))
    beta = float(np.clip(params["smoothing_trend"], 0.0, alpha))  # state-space beta, as ours
    model = Holt(alpha=alpha, beta=beta, phi=float(np.clip(params["damping_trend"], 0.8, 1.0)))
    for value in y:
        model.update(float(value))
    return model
