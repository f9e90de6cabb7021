"""Anytime-valid test and confidence sequence for a common odds ratio over a stream of 2x2 tables.

Each update is one stratum (an interval): the canary had `x` events among `n` trials, the
baseline `y` among `m`. Given the margins, `x` follows Fisher's noncentral hypergeometric law
with odds ratio `psi`, whatever the (possibly drifting) baseline rate of that interval. The
product of these conditional likelihoods is a likelihood in `psi` alone, so a mixture of
likelihood ratios against a null `psi0` is a non-negative martingale under `psi = psi0` and a
supermartingale under any `psi` on the null side (the law is an exponential family in
`log psi`). Ville's inequality then bounds the chance that it ever exceeds `1 / alpha` by
`alpha`, however often it is looked at. Conditioning on each interval's margins is also what
makes the test immune to traffic shifts, diurnal load and unequal cohort sizes.

References: Lindon & Malek (2022), "Anytime-valid inference for multinomial count data";
Howard, Ramdas, McAuliffe & Sekhon (2021), "Time-uniform, nonparametric, nonasymptotic
confidence sequences".
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable

import numpy as np
from numpy.typing import NDArray
from scipy.special import betaln

from sentra_ml.analysis.stats.sampling import hypergeometric

FloatArray = NDArray[np.float64]

_EXACT_SUPPORT = 300
_MAX_POINTS = 1024  # summands per table: a larger table is thinned (a few ms of numpy at most)
_MAX_TRIALS = 2**32  # per cohort and table: more, and the log-binomials lose digits the test needs


class ConditionalOddsRatioTest:
    """Sequential mixture test of `log psi` on a fixed grid.

    Parameters
    ----------
    nulls
        Values of `log psi` that will be tested; they are placed on the grid exactly.
    half_width
        The grid spans `[-half_width, half_width]` in `log psi`.
    points
        Number of evenly spaced grid points (the nulls are added to them).
    prior_scale
        Scale of the half-normal mixing distribution on `log psi - log psi0`: the effect size,
        on the log-odds scale, that the test is tuned to find fastest.
    seed
        Seeds the thinning of tables too large to sum (see `update`).

    >>> t = ConditionalOddsRatioTest(nulls=(0.0,))
    >>> for _ in range(30):
    ...     _ = t.update(x=6, n=100, y=20, m=1000)
    >>> t.log_e_above(0.0) > math.log(100)
    True
    >>> round(math.exp(t.estimate()), 1)  # the table's odds ratio is 3.13
    3.1
    """

    def __init__(
        self,
        nulls: Iterable[float] = (0.0,),
        half_width: float = math.log(64.0),
        points: int = 201,
        prior_scale: float = 1.0,
        seed: int = 0,
    ) -> None:
        self.nulls = tuple(float(v) for v in nulls)
        self.half_width = half_width
        self.points = points
        self.prior_scale = prior_scale
        self.seed = seed
        self._rng = np.random.default_rng(seed)
        grid = np.union1d(np.linspace(-half_width, half_width, points), np.array(self.nulls))
        self._grid: FloatArray = grid.astype(np.float64)
        self._loglik: FloatArray = np.zeros_like(self._grid)
        self._prior_cache: dict[tuple[int, int], FloatArray] = {}
        self.tables = 0

    def update(self, x: float, n: float, y: float, m: float) -> FloatArray | None:
        """Add one stratum: `x` of `n` canary and `y` of `m` baseline trials had the event.

        Returns the stratum's log-likelihood on the grid (for `OddsRatioDetector`), or None
        when its margins fix `x` (no information). A table too large to sum exactly and
        quickly is thinned first (see `_thinned`).
        """
        xi, ni, yi, mi = (round(v) for v in (x, n, y, m))
        if min(xi, ni, yi, mi) < 0 or xi > ni or yi > mi:
            raise ValueError(f"invalid 2x2 table x={x} n={n} y={y} m={m}")
        xi, ni, yi, mi = self._thinned(xi, ni, yi, mi)
        f = xi + yi
        if _fixed(ni, mi, f):
            return None  # the margins fix x: no information about psi
        self.tables += 1
        lo, step, count = _lattice(ni, mi, f)
        support = lo + step * np.arange(count, dtype=np.float64)
        log_weights = _log_binom(ni, support) + _log_binom(mi, f - support)
        terms = log_weights[None, :] + np.outer(self._grid, support)
        top = terms.max(axis=1)
        log_norm = top + np.log(np.exp(terms - top[:, None]).sum(axis=1)) + math.log(step)
        increment = xi * self._grid - log_norm
        self._loglik += increment
        return increment

    def _thinned(self, x: int, n: int, y: int, m: int) -> tuple[int, int, int, int]:
        """The table, or a random subsample of each cohort's trials small enough to sum.

        A subsample of trials drawn at random (sizes chosen from the margins alone) is again
        a table whose `x` given its margins has the same noncentral law: the test stays valid
        on it and loses only evidence it had in excess. Each cohort keeps at most
        `_MAX_TRIALS` (the log-binomials need the digits), the lattice at most `_MAX_POINTS`.
        """
        x, n = self._thin(x, n, min(n, _MAX_TRIALS))
        y, m = self._thin(y, m, min(m, _MAX_TRIALS))
        while not _fixed(n, m, x + y):
            count = _lattice(n, m, x + y)[2]
            if count <= _MAX_POINTS:
                break
            # The larger cohort first, no lower than the smaller one: the lattice shortens
            # about in proportion, and the evidence, which the smaller cohort bounds, hardly.
            # A balanced table is thinned in both; the lattice shrinks as sqrt of the share.
            share = 0.9 * _MAX_POINTS / count
            if n > m:
                x, n = self._thin(x, n, max(m, int(n * share)))
            elif m > n:
                y, m = self._thin(y, m, max(n, int(m * share)))
            else:
                x, n = self._thin(x, n, int(n * share**2))
                y, m = self._thin(y, m, int(m * share**2))
        return x, n, y, m

    def _thin(self, events: int, trials: int, keep: int) -> tuple[int, int]:
        if keep >= trials:
            return events, trials
        return hypergeometric(self._rng, events, trials - events, keep), keep

    # -- inference ---------------------------------------------------------------------------

    def _index(self, log_psi0: float) -> int:
        i = int(np.searchsorted(self._grid, log_psi0))
        if i >= len(self._grid) or not math.isclose(self._grid[i], log_psi0, abs_tol=1e-12):
            raise ValueError(f"log psi0={log_psi0} is not a declared null")
        return i

    def alternatives(self, log_psi0: float, side: int) -> tuple[int, slice, FloatArray]:
        """(index of the null, the grid's alternatives to it, their log prior) of the
        one-sided test of `log_psi0` (`side` +1: against `psi <= psi0`)."""
        i = self._index(log_psi0)
        alt = slice(i + 1, None) if side > 0 else slice(0, i)
        return i, alt, self._log_prior(i, side)

    def _log_e(self, i: int, side: int) -> float:
        alt = slice(i + 1, None) if side > 0 else slice(0, i)
        log_prior = self._log_prior(i, side)
        if log_prior.size == 0:
            return 0.0
        return _lse(log_prior + self._loglik[alt]) - _lse(log_prior) - float(self._loglik[i])

    def _log_prior(self, i: int, side: int) -> FloatArray:
        key = (i, side)
        cached = self._prior_cache.get(key)
        if cached is None:
            alt = slice(i + 1, None) if side > 0 else slice(0, i)
            cached = -0.5 * ((self._grid[alt] - self._grid[i]) / self.prior_scale) ** 2
            self._prior_cache[key] = cached
        return cached

    def log_e_above(self, log_psi0: float) -> float:
        """Log e-value against `psi <= psi0` (evidence that the canary has more events)."""
        return self._log_e(self._index(log_psi0), +1)

    def log_e_below(self, log_psi0: float) -> float:
        """Log e-value against `psi >= psi0` (evidence that the canary has fewer events)."""
        return self._log_e(self._index(log_psi0), -1)

    def estimate(self) -> float:
        """Maximum-likelihood `log psi` on the grid (0 before any informative table)."""
        if self.tables == 0:
            return 0.0
        return float(self._grid[int(np.argmax(self._loglik))])

    def interval(self, alpha: float) -> tuple[float, float]:
        """Anytime-valid two-sided confidence interval for `log psi` at level `1 - alpha`.

        It holds the grid points that neither one-sided test rejects at `alpha / 2`; an end at
        the grid's edge is reported as +-inf. The log-likelihood is concave, so each one-sided
        e-value is monotone along the grid and each end is found by bisection.
        """
        if self.tables == 0:
            return (-math.inf, math.inf)
        threshold = math.log(2.0 / alpha)
        mle = int(np.argmax(self._loglik))
        last = len(self._grid) - 1
        # lowest i whose "psi <= psi_i" is not rejected; highest i whose "psi >= psi_i" is not
        lo = _first_true(0, mle, lambda i: self._log_e(i, +1) < threshold)
        hi = _last_true(mle, last, lambda i: self._log_e(i, -1) < threshold)
        return (
            -math.inf if lo == 0 else float(self._grid[lo]),
            math.inf if hi == last else float(self._grid[hi]),
        )


def _first_true(lo: int, hi: int, pred: Callable[[int], bool]) -> int:
    """Smallest i in [lo, hi] with pred(i), for a pred that is monotone (False..True); else hi."""
    while lo < hi:
        mid = (lo + hi) // 2
        if pred(mid):
            hi = mid
        else:
            lo = mid + 1
    return lo


def _last_true(lo: int, hi: int, pred: Callable[[int], bool]) -> int:
    """Largest i in [lo, hi] with pred(i), for a pred that is monotone (True..False); else lo."""
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if pred(mid):
            lo = mid
        else:
            hi = mid - 1
    return lo


def _lse(a: FloatArray) -> float:
    top = float(a.max())
    return top + math.log(float(np.exp(a - top).sum()))


def _fixed(n: int, m: int, f: int) -> bool:
    """Do the margins leave x only one value?"""
    return n == 0 or m == 0 or f == 0 or f == n + m


def _lattice(n: int, m: int, f: int) -> tuple[int, int, int]:
    """(first point, step, number of points) of the support of x that the test sums over."""
    lo, hi = max(0, f - m), min(f, n)
    width = hi - lo + 1
    if width <= _EXACT_SUPPORT:
        return lo, 1, width
    # Large tables: the summands are a smooth bell in s whose width is about sd0, so a lattice
    # sum with a step of sd0 / 3 equals the full sum to ~exp(-2 pi^2 9) relative.
    total = n + m
    sd0 = math.sqrt(f * (n / total) * (m / total) * ((total - f) / (total - 1)))
    step = max(1, int(sd0 / 3.0))
    return lo, step, -(-width // step)


def _log_binom(n: int, k: FloatArray) -> FloatArray:
    # through the beta function: exact to the last digits even where k or n - k is tiny next to n
    return np.asarray(-math.log1p(n) - betaln(n - k + 1.0, k + 1.0), dtype=np.float64)
