"""Anytime-valid test and confidence sequence for the mean of conditionally symmetric increments.

For increments `d_1, d_2, ...` whose conditional law given the past is symmetric about `mu0`,
`exp(lambda S_t - lambda^2 V_t / 2)` with `S_t = sum (d_i - mu0)` and `V_t = sum (d_i - mu0)^2`
is a non-negative supermartingale for every real `lambda` (de la Peña 1999): no variance, scale
or tail assumption is needed, so heavy tails and a drifting scale are fine. Mixing `lambda` over
a normal law of precision `rho` keeps it one; in closed form (Howard et al. 2021)

    M_t = sqrt(rho / (V_t + rho)) * exp(S_t^2 / (2 (V_t + rho))).

The one-sided tests here mix over the half-normal (`lambda > 0`, or `< 0`), which gives

    M_t^+ = 2 sqrt(rho / (V_t + rho)) * exp(S_t^2 / (2 (V_t + rho))) * Phi(S_t / sqrt(V_t + rho)),

a genuine e-process against the one-sided null (at most ~2x the two-sided mixture, and larger
than it whenever `S_t > 0`). It is also valid when the increments are symmetric about some
`mu < mu0`: for `lambda > 0` a negative shift only lowers each factor (pair `x` with `-x`).
Ville's inequality bounds the chance that it ever exceeds `1 / alpha` by `alpha`.

`rho` must not depend on the tested data: the first `burn_in` increments only set it (from
their spread, so the test is scale-free) and are not tested.

References: de la Peña (1999), "A general class of exponential inequalities for martingales and
ratios", Ann. Probab. 27(1); Howard, Ramdas, McAuliffe & Sekhon (2021), "Time-uniform,
nonparametric, nonasymptotic confidence sequences", Ann. Statist. 49(2).
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import log_ndtr, ndtr

FloatArray = NDArray[np.float64]

_LOG2 = math.log(2.0)
_BISECT_STEPS = 64  # brackets of width <= sqrt(n): 64 halvings reach float precision
# when the burn-in increments are all equal, rho falls back to this fraction of their mean square
_RHO_FLOOR = 1e-12


class SelfNormalizedMeanTest:
    """Sequential one-sided tests and a confidence sequence for the mean of a stream.

    Parameters
    ----------
    burn_in
        Number of first increments that only set the mixture scale `rho` and are not tested.
    rho_factor
        `rho = rho_factor * sum of squared deviations of the burn-in increments from their
        mean`. Larger values tune the test to smaller effects found later.

    O(1) time and memory per update: the tested increments are kept as count, mean and sum of
    squared deviations (Welford), from which `S` and `V` follow for any `mu0`.

    >>> rng = np.random.default_rng(3)
    >>> t = SelfNormalizedMeanTest()
    >>> for d in rng.standard_t(3, size=60) * 37.0 + 40.0:
    ...     t.update(float(d))
    >>> t.n, t.log_e_above(0.0) > math.log(100), t.log_e_below(0.0) < 0
    (55, True, True)
    >>> low, high = t.interval(0.05)
    >>> bool(low < 40.0 < high), round(t.estimate(), 1)
    (True, 57.6)
    """

    def __init__(self, burn_in: int = 5, rho_factor: float = 1.0) -> None:
        if burn_in < 2:
            raise ValueError(f"burn_in must be >= 2 (it sets the scale), got {burn_in}")
        if not rho_factor > 0 or not math.isfinite(rho_factor):
            raise ValueError(f"rho_factor must be a positive number, got {rho_factor}")
        self.burn_in = burn_in
        self.rho_factor = rho_factor
        self.rho: float | None = None
        self._burn: list[float] = []
        self.n = 0
        self._mean = 0.0
        self._m2 = 0.0

    def update(self, d: float) -> None:
        """Add the next increment."""
        d = float(d)
        if not math.isfinite(d):
            raise ValueError(f"increment must be finite, got {d}")
        if self.rho is None:
            self._burn.append(d)
            if len(self._burn) == self.burn_in:
                burn = np.array(self._burn)
                ssd = float(np.sum((burn - burn.mean()) ** 2))
                floor = _RHO_FLOOR * max(float(np.mean(burn**2)), 1.0) * self.burn_in
                self.rho = self.rho_factor * max(ssd, floor)
                self._burn = []
            return
        self.n += 1
        delta = d - self._mean
        self._mean += delta / self.n
        self._m2 += delta * (d - self._mean)

    def _s_v(self, mu0: float) -> tuple[float, float]:
        shift = self._mean - mu0
        return self.n * shift, max(self._m2, 0.0) + self.n * shift * shift

    def log_e_above(self, mu0: float = 0.0) -> float:
        """Log e-value against `mean <= mu0` (evidence that the mean is above `mu0`)."""
        if self.n == 0 or self.rho is None:
            return 0.0
        s, v = self._s_v(mu0)
        return float(log_mixture(s, v, self.rho))

    def log_e_below(self, mu0: float = 0.0) -> float:
        """Log e-value against `mean >= mu0` (evidence that the mean is below `mu0`)."""
        if self.n == 0 or self.rho is None:
            return 0.0
        s, v = self._s_v(mu0)
        return float(log_mixture(-s, v, self.rho))

    def estimate(self) -> float:
        """Mean of the tested increments (nan before any)."""
        return self._mean if self.n > 0 else math.nan

    def interval(self, alpha: float) -> tuple[float, float]:
        """Anytime-valid `1 - alpha` confidence interval for the mean.

        The values `mu0` that neither one-sided test rejects at `alpha / 2`, around the
        estimate (the two sides are mirror images, so it is symmetric). (-inf, inf) until the
        data can reject anything. See `mixture_radius` for how it is solved.
        """
        if self.n == 0 or self.rho is None:
            return (-math.inf, math.inf)
        radius = float(mixture_radius(self.n, self._m2, self.rho, alpha))
        return (self._mean - radius, self._mean + radius)


def log_mixture(s: ArrayLike, v: ArrayLike, rho: ArrayLike) -> FloatArray:
    """Log of the one-sided (half-normal, `lambda > 0`) mixture e-value for sums `S`, `V`.

    `log M^+ = log 2 + 0.5 log(rho / (V + rho)) + S^2 / (2 (V + rho)) + log Phi(S / sqrt(V + rho))`;
    pass `-S` for the other side. Vectorised; `log_ndtr` keeps it finite for very negative S.
    """
    s_ = np.asarray(s, dtype=np.float64)
    w = np.asarray(v, dtype=np.float64) + np.asarray(rho, dtype=np.float64)
    z = s_ / np.sqrt(w)
    out = _LOG2 + 0.5 * np.log(np.asarray(rho, dtype=np.float64) / w) + 0.5 * z * z + log_ndtr(z)
    return np.asarray(out, dtype=np.float64)


def mixture_radius(count: ArrayLike, m2: ArrayLike, rho: ArrayLike, alpha: float) -> FloatArray:
    """Half-width of the confidence interval for the mean (vectorised; inf where unbounded).

    With `count` tested increments, their sum of squared deviations `m2` and `A = m2 + rho`,
    the test of `mu0 = mean - x` has `r = S / sqrt(V + rho) = n x / sqrt(A + n x^2)` and

        log M^+ = 0.5 log(rho / (n A)) + 0.5 log(n - r^2) + r^2 / 2 + log(2 Phi(r)),

    increasing in `r` up to a peak `r_p` in `[sqrt(n - 1), sqrt(n))` and falling after it
    (`S^2 / V` cannot exceed `n`). If the peak stays below `log(2 / alpha)` nothing is
    rejected yet (inf). Otherwise the first crossing `r_c` in `[0, r_p]` is found by
    bisection and `x = sqrt(r_c^2 A / (n (n - r_c^2)))`.

    Values of `mu0` beyond the rejected band (past the peak, where all increments would lie far
    on one side of `mu0` compared with their spread) are not rejected by the test either; they
    are left out, as is usual for this self-normalized boundary.

    >>> round(float(mixture_radius(100, 99.0, 4.0, 0.05)), 3)
    0.326
    """
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must be in (0, 1), got {alpha}")
    n, m2_, rho_ = np.broadcast_arrays(
        np.asarray(count, dtype=np.float64),
        np.maximum(np.asarray(m2, dtype=np.float64), 0.0),
        np.asarray(rho, dtype=np.float64),
    )
    shape = n.shape
    n, m2_, rho_ = n.ravel(), m2_.ravel(), rho_.ravel()
    a = m2_ + rho_
    threshold = math.log(2.0 / alpha)
    out = np.full(n.shape, np.inf)
    ok = n >= 1
    if not np.any(ok):
        return out.reshape(shape)
    n, a, rho_ = n[ok], a[ok], rho_[ok]
    const = 0.5 * np.log(rho_ / (n * a))

    # h increases on [0, sqrt(n - 1)]; only where it has not reached the threshold there is the
    # peak in [sqrt(n - 1), sqrt(n)) looked for (slope > 0 at its left end, -> -inf at sqrt(n))
    top = np.sqrt(np.maximum(n - 1.0, 0.0))
    short = _h(top, n, const) < threshold
    if np.any(short):
        n_short = n[short]
        lo, hi = top[short], np.sqrt(n_short) * (1.0 - 1e-15)
        for _ in range(_BISECT_STEPS):
            mid = 0.5 * (lo + hi)
            up = _slope(mid, n_short) > 0
            lo, hi = np.where(up, mid, lo), np.where(up, hi, mid)
        top[short] = lo
    reach = _h(top, n, const) >= threshold
    # first crossing on [0, top], where h increases from 0.5 log(rho / A) < 0
    lo, hi = np.zeros_like(top), top.copy()
    tolerance = 1e-9 * max(float(top.max()), 1.0)  # the radius needs no more digits than this
    for _ in range(_BISECT_STEPS):
        mid = 0.5 * (lo + hi)
        above = _h(mid, n, const) >= threshold
        lo, hi = np.where(above, lo, mid), np.where(above, mid, hi)
        if float((hi - lo).max()) < tolerance:
            break
    r = hi  # the rejected end: the interval errs wide
    with np.errstate(divide="ignore", invalid="ignore"):
        radius = np.sqrt(r * r * a / (n * (n - r * r)))
    sub = np.where(reach, radius, np.inf)
    out[ok] = sub
    return out.reshape(shape)


def _h(r: FloatArray, n: FloatArray, const: FloatArray) -> FloatArray:
    """log M^+ as a function of r = S / sqrt(V + rho) (see `mixture_radius`)."""
    return np.asarray(
        const + 0.5 * np.log(n - r * r) + 0.5 * r * r + _LOG2 + log_ndtr(r), dtype=np.float64
    )


def _slope(r: FloatArray, n: FloatArray) -> FloatArray:
    """d/dr of `_h`: r - r / (n - r^2) + phi(r) / Phi(r)."""
    mills = np.exp(-0.5 * r * r - 0.5 * math.log(2 * math.pi)) / ndtr(r)
    return np.asarray(r - r / (n - r * r) + mills, dtype=np.float64)
