"""The regularized incomplete beta function in logs, accurate where it underflows.

`scipy.special.betainc` returns 0 once `I_x(a, b)` falls below the smallest double, and loses
relative accuracy some way before; the sequential binomial tests need its logarithm far beyond
that (the posterior tail beyond p0 = 0.001 after a million clean trials is about e^-1000).
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray
from scipy.special import betainc, betaincc, betaln

FloatArray = NDArray[np.float64]

# below this the regularized incomplete beta loses relative accuracy (and then underflows):
# switch to its continued fraction, evaluated in logs
_TINY = 1e-250
_CF_MAX_ITER = 20_000


def log_ibeta(a: FloatArray, b: FloatArray, x: float, y: float) -> FloatArray:
    """`log I_x(a, b)`, the regularized incomplete beta, given `y = 1 - x` exactly.

    Where it is tiny (it then underflows, or loses relative accuracy), it is evaluated by the
    continued fraction of the incomplete beta function (Numerical Recipes `betacf`, modified
    Lentz) with its prefactor `x^a (1-x)^b / (a B(a, b))` taken in logs. The fraction converges
    fast exactly there: a tiny `I_x(a, b)` means `x` lies far in the lower tail of Beta(a, b).
    """
    aa, bb = np.broadcast_arrays(np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64))
    shape = aa.shape
    aa, bb = aa.ravel(), bb.ravel()
    with np.errstate(divide="ignore"):
        # betainc is several times faster than betaincc; it is exact enough unless `x` is so
        # close to 1 that its rounding matters relative to `y` (then use `y` itself)
        direct = x <= 0.5 or y >= 1e-3
        value = np.asarray(betainc(aa, bb, x) if direct else betaincc(bb, aa, y), dtype=np.float64)
        out = np.log(value)
    tiny = value < _TINY
    if x > 0.0 and np.any(tiny):
        ta, tb = aa[tiny], bb[tiny]
        log_x = math.log(x) if x < 0.5 else math.log1p(-y)
        log_y = math.log(y) if y < 0.5 else math.log1p(-x)
        front = ta * log_x + tb * log_y - betaln(ta, tb) - np.log(ta)
        out[tiny] = front + np.log(_betacf(ta, tb, x))
    return np.asarray(out, dtype=np.float64).reshape(shape)


def _betacf(a: FloatArray, b: FloatArray, x: float) -> FloatArray:
    """Continued fraction of `I_x(a, b) = x^a (1-x)^b / (a B(a, b)) * cf`, for x < (a+1)/(a+b+2)."""
    fpmin = 1e-300
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c = np.ones_like(a)
    d = 1.0 - qab * x / qap
    d = 1.0 / np.where(np.abs(d) < fpmin, fpmin, d)
    h = d.copy()
    done = np.zeros(a.shape, dtype=bool)
    for m in range(1, _CF_MAX_ITER + 1):
        m2 = 2.0 * m
        for aa in (
            m * (b - m) * x / ((qam + m2) * (a + m2)),
            -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2)),
        ):
            d = 1.0 + aa * d
            d = 1.0 / np.where(np.abs(d) < fpmin, fpmin, d)
            c = 1.0 + aa / c
            c = np.where(np.abs(c) < fpmin, fpmin, c)
            step = d * c
            h = np.where(done, h, h * step)
        done |= np.abs(step - 1.0) < 1e-15
        if done.all():
            break
    return np.asarray(h, dtype=np.float64)
