"""Anytime-valid tests and confidence sequences for a proportion and for a quantile.

After `k` successes in `n` Bernoulli trials, the likelihood ratio `L(p) / L(p0)` is a martingale
under `p0` for every alternative `p`; mixing it over `p ~ Beta(a, b)` restricted to the
alternative side keeps it one. For `p > p0` each ratio is also a supermartingale under any true
`p' < p0`, so the mixture is a non-negative supermartingale under the whole one-sided null
`p <= p0` and, by Ville's inequality, ever exceeds `1 / alpha` with probability at most `alpha`,
however often it is looked at. Both sides at `alpha / 2` give a confidence sequence.

The same test on the count of observations `<= q` gives a confidence sequence for a quantile:
the count of values below the true p-quantile is Binomial(n, p) (Howard & Ramdas 2022).

References: Robbins (1970), "Statistical methods related to the law of the iterated logarithm";
Howard & Ramdas (2022), "Sequential estimation of quantiles with applications to A/B-testing
and best-arm identification", Bernoulli 28(3).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import overload

import numpy as np
from numpy.typing import NDArray
from scipy.special import betaln

from sentra_ml.analysis.stats.incomplete_beta import log_ibeta

FloatArray = NDArray[np.float64]
HistogramData = tuple[Sequence[float] | FloatArray, Sequence[float] | FloatArray]

_SEARCH_WIDTH = 64
_BISECT_STEPS = 80
_RTOL = 1e-10
_MAX_TRIALS = 2.0**32


@overload
def log_e_above(k: float, n: float, p0: float, a: float = 0.5, b: float = 0.5) -> float: ...


@overload
def log_e_above(
    k: FloatArray, n: FloatArray | float, p0: float, a: float = 0.5, b: float = 0.5
) -> FloatArray: ...


def log_e_above(
    k: float | FloatArray, n: float | FloatArray, p0: float, a: float = 0.5, b: float = 0.5
) -> float | FloatArray:
    """Log e-value against `p <= p0` after `k` successes in `n` trials (evidence that p > p0).

    The mixture over `p ~ Beta(a, b)` truncated to `(p0, 1)`, divided by the null likelihood::

        log[B(a+k, b+n-k) (1 - I_p0(a+k, b+n-k)) / (B(a, b) (1 - I_p0(a, b)))]
            - [k log p0 + (n-k) log(1-p0)]

    `k` and `n` may be non-integer (counts from rates) and arrays (broadcast); `k` is clipped to
    `[0, n]`. At `p0 = 1` the null is everything (0 is returned); at `p0 = 0` any success is
    conclusive (+inf).

    >>> round(log_e_above(30, 1000, 0.01), 2)
    9.55
    >>> log_e_above(10, 1000, 0.01) < 0  # exactly on the null: no evidence
    True
    """
    _check_p0(p0)
    kk, nn = np.asarray(k, dtype=np.float64), np.asarray(n, dtype=np.float64)
    out = _log_e_above(kk, nn, p0, 1.0 - p0, a, b)
    return float(out) if np.ndim(k) == 0 and np.ndim(n) == 0 else out


@overload
def log_e_below(k: float, n: float, p0: float, a: float = 0.5, b: float = 0.5) -> float: ...


@overload
def log_e_below(
    k: FloatArray, n: FloatArray | float, p0: float, a: float = 0.5, b: float = 0.5
) -> FloatArray: ...


def log_e_below(
    k: float | FloatArray, n: float | FloatArray, p0: float, a: float = 0.5, b: float = 0.5
) -> float | FloatArray:
    """Log e-value against `p >= p0` (evidence that p < p0): the mirror of `log_e_above`.

    The mixture is over `Beta(a, b)` truncated to `(0, p0)`; it equals
    `log_e_above(n - k, n, 1 - p0, b, a)`, computed without forming `1 - p0`.

    >>> round(log_e_below(0, 1000, 0.01), 2)
    8.78
    """
    _check_p0(p0)
    kk, nn = np.asarray(k, dtype=np.float64), np.asarray(n, dtype=np.float64)
    nn = np.maximum(nn, 0.0)
    kk = np.clip(kk, 0.0, nn)
    out = _log_e_above(nn - kk, nn, 1.0 - p0, p0, b, a)
    return float(out) if np.ndim(k) == 0 and np.ndim(n) == 0 else out


def proportion_interval(
    k: float, n: float, alpha: float, a: float = 0.5, b: float = 0.5
) -> tuple[float, float]:
    """Time-uniform `1 - alpha` confidence interval for `p` after `k` successes in `n` trials.

    It is the set of `p0` that neither one-sided test rejects at `alpha / 2` (log e-value below
    `log(2 / alpha)`); each end is found by bisection. The interval always holds `k / n`: on the
    far side of the maximum-likelihood estimate every likelihood ratio is below 1. The reported
    ends are the non-rejected side of the final bisection bracket, so it errs wide.

    >>> low, high = proportion_interval(30, 1000, 0.05)
    >>> round(low, 4), round(high, 4)
    (0.0137, 0.0513)
    """
    _check_alpha(alpha)
    n = max(float(n), 0.0)
    k = min(max(float(k), 0.0), n)
    if n == 0:
        return (0.0, 1.0)
    threshold = math.log(2.0 / alpha)
    mle = k / n
    low = 0.0
    if k > 0:
        low = _bisect_boundary(
            lambda p0: log_e_above(k, n, p0, a, b) < threshold, rejected=0.0, accepted=mle
        )
    high = 1.0
    if k < n:
        high = _bisect_boundary(
            lambda p0: log_e_below(k, n, p0, a, b) < threshold, rejected=1.0, accepted=mle
        )
    return (low, high)


def quantile_interval(
    data: FloatArray | Sequence[float] | HistogramData,
    p: float,
    alpha: float,
    a: float = 0.5,
    b: float = 0.5,
    conservative: bool = False,
) -> tuple[float, float, float]:
    """Time-uniform `1 - alpha` confidence interval for the p-quantile, and its point estimate.

    `data` is either raw values (a 1-D array, sorted or not) or a histogram given as
    `(upper_bounds, counts)`: increasing upper bounds whose last one is +inf (Prometheus `le`)
    and the non-cumulative count of each bucket `(upper_bounds[i-1], upper_bounds[i]]`, the
    first bucket starting at 0.

    With `n` values, the count below the true quantile `Q` is Binomial(n, <= p) and the count
    at or below it Binomial(n, >= p). Testing both with the mixture e-values at `alpha / 2`,
    the largest count `c_hi` that `log_e_above(c, n, p)` does not reject and the smallest
    `c_lo` that `log_e_below(c, n, p)` does not reject bracket `Q` between the order
    statistics `X_(c_lo)` and `X_(c_hi + 1)`, simultaneously for all `n` (Howard & Ramdas 2022).

    Returns `(estimate, low, high)`: the empirical quantile (`numpy.quantile`'s linear rule for
    raw values) and the interval, with -inf / +inf where the data cannot bound it yet.

    For a histogram, order statistics are interpolated linearly within their bucket (values
    spread evenly), so bucket resolution limits what the interval can claim: it holds exactly
    only at bucket edges. `conservative=True` widens each end to its bucket's edge, which keeps
    the guarantee. A rank in the +Inf bucket gives the last finite bound as a low end or
    estimate (as Prometheus' `histogram_quantile`) and +inf as a high end.

    >>> rng = np.random.default_rng(7)
    >>> est, low, high = quantile_interval(rng.exponential(size=2000), 0.5, 0.05)
    >>> bool(low < math.log(2) < high), round(est, 2), round(low, 2), round(high, 2)
    (True, 0.68, 0.61, 0.78)
    """
    _check_alpha(alpha)
    if not 0.0 < p < 1.0:
        raise ValueError(f"p must be in (0, 1), got {p}")
    threshold = math.log(2.0 / alpha)
    if isinstance(data, tuple):
        edges, counts = _histogram(data)
        n = float(counts.sum())
        if n <= 0:
            return (math.nan, -math.inf, math.inf)
        c_hi, c_lo = _rank_bounds(n, p, threshold, a, b)
        cumulative = np.cumsum(counts)
        lower_edges = np.concatenate(([min(0.0, float(edges[0]))], edges[:-1]))
        estimate = _value_at_rank(edges, lower_edges, cumulative, p * n, "estimate", False)
        low = -math.inf
        if c_lo >= 1:
            low = _value_at_rank(edges, lower_edges, cumulative, float(c_lo), "low", conservative)
        high = math.inf
        if c_hi + 1 <= n:
            rank = float(c_hi + 1)
            high = _value_at_rank(edges, lower_edges, cumulative, rank, "high", conservative)
        return (estimate, low, high)

    values = np.asarray(data, dtype=np.float64).ravel()
    if np.any(np.isnan(values)):
        raise ValueError("quantile_interval: values contain NaN")
    if values.size == 0:
        return (math.nan, -math.inf, math.inf)
    if values.size > 1 and np.any(values[1:] < values[:-1]):
        values = np.sort(values)
    n_int = values.size
    c_hi, c_lo = _rank_bounds(float(n_int), p, threshold, a, b)
    low = float(values[c_lo - 1]) if c_lo >= 1 else -math.inf
    high = float(values[c_hi]) if c_hi < n_int else math.inf
    return (float(np.quantile(values, p)), low, high)


# --- internals -----------------------------------------------------------------------------


def _check_p0(p0: float) -> None:
    if not 0.0 <= p0 <= 1.0:
        raise ValueError(f"p0 must be in [0, 1], got {p0}")


def _check_alpha(alpha: float) -> None:
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must be in (0, 1), got {alpha}")


def _log_e_above(
    k: FloatArray, n: FloatArray, p0: float, q0: float, a: float, b: float
) -> FloatArray:
    """The vectorised log e-value against `p <= p0`, given `q0 = 1 - p0` exactly."""
    n = np.maximum(n, 0.0)
    k = np.clip(k, 0.0, n)
    # Beyond _MAX_TRIALS the log-likelihoods lose the digits the test needs: score k / n on
    # _MAX_TRIALS trials instead. The log of a mixture of exp(n g(p)) is convex in n and 0 at
    # n = 0, so the smaller n never gives more evidence, either way: the test stays valid.
    shrink = np.minimum(1.0, _MAX_TRIALS / np.maximum(n, 1.0))
    k, n = np.broadcast_arrays(k * shrink, n * shrink)
    if q0 <= 0.0:
        return np.zeros(k.shape, dtype=np.float64)
    a1, b1 = a + k, b + n - k
    # the upper tail of Beta(a, b) above p0 is the lower tail of Beta(b, a) below 1 - p0
    numerator = betaln(a1, b1) + log_ibeta(b1, a1, q0, p0)
    prior = betaln(a, b) + float(log_ibeta(np.array(b), np.array(a), q0, p0))
    log_p0 = -math.inf if p0 <= 0.0 else math.log(p0) if p0 < 0.5 else math.log1p(-q0)
    log_q0 = math.log(q0) if q0 < 0.5 else math.log1p(-p0)
    with np.errstate(invalid="ignore"):
        null = np.where(k > 0, k * log_p0, 0.0) + np.where(n - k > 0, (n - k) * log_q0, 0.0)
    return np.asarray(numerator - prior - null, dtype=np.float64)


def _bisect_boundary(accept: Callable[[float], bool], rejected: float, accepted: float) -> float:
    """Bisect between a rejected and an accepted point of a monotone test; return the accepted end.

    Stops at a relative width of 1e-10 (or after `_BISECT_STEPS` halvings).
    """
    for _ in range(_BISECT_STEPS):
        mid = 0.5 * (rejected + accepted)
        if mid in (rejected, accepted) or abs(accepted - rejected) <= _RTOL * abs(accepted):
            break
        if accept(mid):
            accepted = mid
        else:
            rejected = mid
    return accepted


def _rank_bounds(n: float, p: float, threshold: float, a: float, b: float) -> tuple[int, int]:
    """(largest count `log_e_above` accepts, smallest count `log_e_below` accepts), integers.

    `log_e_above(c, n, p)` grows with `c` and `log_e_below` shrinks, so each bound is a search
    on the integers `0 .. ceil(n)`; it narrows a bracket by evaluating a vector of candidate
    counts at a time (a few numpy calls instead of dozens of scalar ones).
    """
    top = math.ceil(n)
    nn = np.array(n, dtype=np.float64)

    def above_ok(c: FloatArray) -> NDArray[np.bool_]:
        return _log_e_above(c, nn, p, 1.0 - p, a, b) < threshold

    def below_ok(c: FloatArray) -> NDArray[np.bool_]:
        # the test below is the test above with successes and failures swapped
        return _log_e_above(nn - c, nn, 1.0 - p, p, b, a) < threshold

    # Start from a bracket around n*p wide enough for any boundary of a threshold this size
    # (checked, else the whole range): far-off counts are slow to evaluate and never needed.
    # Beyond _MAX_TRIALS the tests score n * shrink trials: the bracket is as wide on that scale,
    # and ranks closer than 1 / shrink are not told apart (`slack`).
    trials = min(n, _MAX_TRIALS)
    scale = n / trials if trials > 0 else 1.0
    slack = int(scale) - 1 if scale > 1.0 else 0
    centre = n * p
    width = 3.0 * math.sqrt(trials * p * (1.0 - p) * (threshold + math.log(trials + 2.0)))
    width = (width + 3.0 * threshold) * scale
    lo, hi = max(0, math.floor(centre - width) - 5), min(top, math.ceil(centre + width) + 5)
    ends = np.array([lo, hi], dtype=np.float64)
    up_ok, down_ok = above_ok(ends), below_ok(ends)
    c_hi = _last_accepted(above_ok, lo, hi, slack) if up_ok[0] and not up_ok[1] else None
    c_lo = _first_accepted(below_ok, lo, hi, slack) if down_ok[1] and not down_ok[0] else None
    return (
        c_hi if c_hi is not None else _last_accepted(above_ok, 0, top, slack),
        c_lo if c_lo is not None else _first_accepted(below_ok, 0, top, slack),
    )


def _last_accepted(
    ok: Callable[[FloatArray], NDArray[np.bool_]], lo: int, hi: int, slack: int = 0
) -> int:
    """Largest c in [lo, hi] with ok(c), for ok true then false along c (ok(lo) holds);
    with `slack`, an accepted c at most that much below it."""
    while hi - lo > slack:
        candidates = _spread(lo, hi)
        accepted = ok(np.asarray(candidates, dtype=np.float64))
        k = int(np.flatnonzero(accepted)[-1]) if accepted.any() else 0
        if k == len(candidates) - 1:
            return candidates[k]
        lo, hi = candidates[k], candidates[k + 1] - 1
    return lo


def _first_accepted(
    ok: Callable[[FloatArray], NDArray[np.bool_]], lo: int, hi: int, slack: int = 0
) -> int:
    """Smallest c in [lo, hi] with ok(c), for ok false then true along c (ok(hi) holds);
    with `slack`, an accepted c at most that much above it."""
    while hi - lo > slack:
        candidates = _spread(lo, hi)
        accepted = ok(np.asarray(candidates, dtype=np.float64))
        k = int(np.flatnonzero(accepted)[0]) if accepted.any() else len(candidates) - 1
        if k == 0:
            return candidates[0]
        lo, hi = candidates[k - 1] + 1, candidates[k]
    return hi


def _spread(lo: int, hi: int) -> list[int]:
    """Up to `_SEARCH_WIDTH` integers from `lo` to `hi`, both included, evenly spread.

    Integer arithmetic: beyond 2^53 floats skip integers, and a bracket must still shrink.
    """
    count = min(hi - lo + 1, _SEARCH_WIDTH)
    return sorted({lo + (hi - lo) * i // (count - 1) for i in range(count)})


def _histogram(data: HistogramData) -> tuple[FloatArray, FloatArray]:
    if len(data) != 2:
        raise ValueError("a histogram is (upper_bounds, counts)")
    edges = np.asarray(data[0], dtype=np.float64).ravel()
    counts = np.asarray(data[1], dtype=np.float64).ravel()
    if edges.size == 0 or edges.size != counts.size:
        raise ValueError("histogram upper_bounds and counts must be non-empty and of one length")
    if not math.isinf(edges[-1]) or np.any(np.diff(edges) <= 0):
        raise ValueError("histogram upper bounds must increase strictly and end with +inf")
    if not np.all(np.isfinite(counts)) or np.any(counts < 0):
        raise ValueError("histogram counts must be finite and >= 0 (per bucket, not cumulative)")
    return edges, counts


def _value_at_rank(
    edges: FloatArray,
    lower_edges: FloatArray,
    cumulative: FloatArray,
    rank: float,
    role: str,
    conservative: bool,
) -> float:
    """The `rank`-th smallest value (1-based, may be fractional), linear within its bucket."""
    i = int(np.searchsorted(cumulative, rank, side="left"))
    i = min(i, len(edges) - 1)
    if i == len(edges) - 1:  # the +Inf bucket
        if role == "high":
            return math.inf
        return float(edges[-2]) if len(edges) > 1 else math.nan
    lo_edge, hi_edge = float(lower_edges[i]), float(edges[i])
    if conservative:
        return lo_edge if role == "low" else hi_edge
    before = float(cumulative[i - 1]) if i > 0 else 0.0
    width = float(cumulative[i]) - before
    frac = 0.0 if width <= 0 else min(max((rank - before) / width, 0.0), 1.0)
    return lo_edge + frac * (hi_edge - lo_edge)
