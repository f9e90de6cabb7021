"""Change-point e-detector: a mixture likelihood-ratio test restarted at every update.

A cumulative test started with the rollout is diluted by the healthy data before a fault's
onset. Here copy `j` of the test starts at update `j` and sees only the data from there on;
copy `j` carries a weight `w_j` fixed before update `j` (from time alone), and the statistic
is the weighted sum (Shin, Ramdas & Rinaldo 2022; a Shiryaev-Roberts statistic whose
restarts are weighted rather than counted)

    M_t = sum_{j <= t} w_j * sum_k pi_k * prod_{i=j}^{t} LR_i(theta_k),

kept in O(grid) per update by the recursion `R_t(theta) = (R_{t-1}(theta) + w_t) LR_t(theta)`.

What is guaranteed: if every `LR_i(theta_k)` is a conditional e-value under the null (its
conditional mean given the past is at most 1, as for the odds-ratio and self-normalized tests
here), each copy is a test supermartingale (worth 1 before its start), so
`M_t + (1 - sum of the weights given so far)` is one too as long as the weights sum to at
most 1. Ville's inequality then gives `P(M_t >= 1 / alpha at any t) <= alpha` under the null
(`log_e` reports that supermartingale, `M_t` plus the weight not given yet),
over the whole rollout, however long it runs and however often it is looked at.

`RestartWeights` spends half the weight on the first update (a fault present from the start
is found almost as fast as by the cumulative test: it costs `log 2` nats) and spreads the other
half evenly over the first `horizon` seconds; after the horizon no copy starts, so a later
onset is diluted again (but the guarantee still holds).

Reference: Shin, Ramdas & Rinaldo (2022), "E-detectors: a nonparametric framework for
sequential change detection", arXiv:2203.03532.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from sentra_ml.analysis.stats.meanshift import SelfNormalizedMeanTest
from sentra_ml.analysis.stats.oddsratio import ConditionalOddsRatioTest

FloatArray = NDArray[np.float64]


class RestartWeights:
    """The weight of the copy started at each update: `first` for the first, then
    `(1 - first) * dt / horizon` for an update `dt` seconds after the previous one, until the
    weights given reach 1 (at `horizon` seconds)."""

    def __init__(self, horizon: float, first: float = 0.5, start_ts: float = 0.0) -> None:
        if not horizon > 0 or not math.isfinite(horizon):
            raise ValueError(f"horizon must be a positive number of seconds, got {horizon}")
        if not 0.0 < first <= 1.0:
            raise ValueError(f"first must be in (0, 1], got {first}")
        self.horizon = horizon
        self.first = first
        self.start_ts = start_ts
        self.given = 0.0
        self._last: float | None = None

    def next(self, now: float) -> float:
        """The weight of a copy started by an update at `now` (0 once all weight is given)."""
        if self._last is None:
            self._last = now
            weight = self.first
        else:
            dt = max(0.0, now - self._last)
            self._last = max(self._last, now)
            weight = (1.0 - self.first) * dt / self.horizon
        weight = min(weight, max(0.0, 1.0 - self.given))
        self.given += weight
        return weight


class RestartMixture:
    """The e-detector over a fixed grid of alternatives with prior weights `log_prior`.

    `update(log_lr, weight)` takes one update's log likelihood ratio of every alternative
    against the null, and the weight of the copy that starts with it.

    >>> m = RestartMixture(np.log(np.array([0.5, 0.5])))
    >>> m.update(np.array([0.0, 0.0]), 0.5)  # no evidence: the statistic stays at 1
    >>> round(math.exp(m.log_e()), 3)
    1.0
    >>> for _ in range(20):
    ...     m.update(np.array([0.3, -0.1]), 0.01)
    >>> m.log_e() > math.log(100)
    True
    """

    def __init__(self, log_prior: FloatArray) -> None:
        prior = np.asarray(log_prior, dtype=np.float64)
        if prior.ndim != 1 or prior.size == 0:
            raise ValueError("log_prior must be a non-empty vector")
        top = float(prior.max())
        self.log_prior: FloatArray = prior - (top + math.log(float(np.exp(prior - top).sum())))
        self._log_r: FloatArray = np.full(prior.size, -np.inf)
        self.given = 0.0
        self.updates = 0

    def update(self, log_lr: FloatArray, weight: float) -> None:
        """One update: a copy with `weight` starts, then every copy takes `log_lr`."""
        if weight < 0 or not math.isfinite(weight):
            raise ValueError(f"weight must be a finite number >= 0, got {weight}")
        lr = np.asarray(log_lr, dtype=np.float64)
        if lr.shape != self._log_r.shape:
            raise ValueError(f"log_lr has shape {lr.shape}, the grid {self._log_r.shape}")
        if self.given + weight > 1.0 + 1e-9:
            raise ValueError(f"weights must sum to at most 1, would reach {self.given + weight}")
        self.given += weight
        start = math.log(weight) if weight > 0 else -math.inf
        self._log_r = np.logaddexp(self._log_r, start) + lr
        self.updates += 1

    def log_e(self) -> float:
        """log of `M_t + (1 - weights given)`: the test supermartingale itself (0 at the start).

        The copies not started yet count at their value before their start, 1."""
        terms = np.append(self.log_prior + self._log_r, math.log(max(1.0 - self.given, 1e-300)))
        top = float(terms.max())
        return top + math.log(float(np.exp(terms - top).sum()))


class OddsRatioDetector:
    """The e-detector form of one one-sided test of a `ConditionalOddsRatioTest`: the same
    grid, prior and strata, restarted at every stratum. Feed it what `test.update` returns."""

    def __init__(
        self,
        test: ConditionalOddsRatioTest,
        log_psi0: float,
        side: int,
        horizon: float,
        first: float = 0.5,
    ) -> None:
        self._null, self._alt, log_prior = test.alternatives(log_psi0, side)
        self._mixture = RestartMixture(log_prior)
        self._weights = RestartWeights(horizon, first)

    def update(self, loglik: FloatArray | None, now: float) -> None:
        """One stratum's log-likelihood on the test's grid (None: an uninformative stratum)."""
        if loglik is None:
            return
        log_lr = loglik[self._alt] - loglik[self._null]
        self._mixture.update(log_lr, self._weights.next(now))

    def log_e(self) -> float:
        return self._mixture.log_e()


class MeanDetector:
    """The e-detector form of `SelfNormalizedMeanTest.log_e_above(0)` (pass `-d` for the other
    side): de la Pena's factors `exp(lambda d - lambda^2 d^2 / 2)`, each a conditional e-value
    for increments symmetric about a mean <= 0, on a grid of `lambda > 0` with the test's
    half-normal prior of precision `rho`. Call `update` before the test's own update: the
    burn-in increments that set `rho` are not tested here either.

    Valid only for increments that are conditionally symmetric given the past: autocorrelated
    noise (a gauge) is not, and restarts find its runs; the gauge analyzer does not use it."""

    def __init__(
        self, test: SelfNormalizedMeanTest, horizon: float, first: float = 0.5, points: int = 64
    ) -> None:
        self._test = test
        self._weights = RestartWeights(horizon, first)
        self._points = points
        self._lambdas: FloatArray | None = None
        self._mixture: RestartMixture | None = None

    def update(self, d: float, now: float) -> None:
        rho = self._test.rho
        if rho is None:
            return  # still the burn-in: this increment only sets the scale
        if self._mixture is None or self._lambdas is None:
            scale = 1.0 / math.sqrt(rho)
            step = _PRIOR_SDS * scale / self._points
            lambdas: FloatArray = (np.arange(self._points, dtype=np.float64) + 0.5) * step
            self._lambdas = lambdas
            self._mixture = RestartMixture(-0.5 * (lambdas / scale) ** 2)
        log_lr = self._lambdas * d - 0.5 * (self._lambdas * d) ** 2
        self._mixture.update(log_lr, self._weights.next(now))

    def log_e(self) -> float:
        return 0.0 if self._mixture is None else self._mixture.log_e()


_PRIOR_SDS = 5.0  # the lambda grid spans the half-normal prior up to this many sds


class BinomialDetector:
    """The e-detector form of `binomial_cs.log_e_above(k, n, p0)`: is the proportion above
    `p0`? Alternatives on a grid of log-odds above `p0`'s, half-normal prior of scale 1."""

    def __init__(self, p0: float, horizon: float, first: float = 0.5, points: int = 96) -> None:
        if not 0.0 < p0 < 1.0:
            raise ValueError(f"p0 must be in (0, 1), got {p0}")
        self.p0 = p0
        shifts = np.linspace(_MAX_LOG_ODDS / points, _MAX_LOG_ODDS, points)
        logit = math.log(p0 / (1.0 - p0)) + shifts
        alt = 1.0 / (1.0 + np.exp(-logit))
        self._log_hit = np.log(alt / p0)
        self._log_miss = np.log1p(-alt) - math.log1p(-p0)
        self._mixture = RestartMixture(-0.5 * shifts**2)
        self._weights = RestartWeights(horizon, first)

    def update(self, k: float, n: float, now: float) -> None:
        """`k` successes in `n` new trials (none: nothing happens)."""
        if n <= 0:
            return
        k = min(max(k, 0.0), n)
        log_lr = k * self._log_hit + (n - k) * self._log_miss
        self._mixture.update(log_lr, self._weights.next(now))

    def log_e(self) -> float:
        return self._mixture.log_e()


_MAX_LOG_ODDS = 6.0  # the binomial grid reaches odds e^6 (~400x) those of p0
