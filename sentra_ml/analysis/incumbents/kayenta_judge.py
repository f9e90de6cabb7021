"""A port of Kayenta's NetflixACAJudge-v1.0: per-metric Mann-Whitney classification and scoring.

Ported from spinnaker/kayenta: `kayenta-judge` (`NetflixACAJudge.scala`,
`MannWhitneyClassifier.scala`, `IQRDetector.scala`, `WeightedSumScorer.scala`,
`ThresholdScoreClassifier.scala`) and `kayenta-mannwhitney` (`MannWhitney.scala`, the asymptotic
two-sample confidence interval of R's `wilcox.test(..., conf.int = TRUE, correct = TRUE)`).

Per metric: NaNs removed (`nanStrategy` "remove"; Kayenta parses anything but "replace",
its default "none" included, as remove) or replaced by 0; outliers
outside `[min(p1, Q1 - 3 IQR), max(p99, Q3 + 3 IQR)]` dropped; identical or single-valued data
Pass; otherwise the canary is High when the lower end of the 98 % interval for the location shift
(canary - baseline) exceeds `tolerance * |estimate|` and the mean ratio canary/baseline is
>= `allowedIncrease` (default 1), Low symmetrically. Score: % of Pass among Pass/High/Low (one
metric group; Nodata and Error are left out of the count, a group with none scores 0); any
critical metric not Pass makes the score 0. Classification: >= pass -> Pass, >= marginal ->
Marginal, else Fail.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import brentq
from scipy.stats import norm, rankdata

from sentra_ml.analysis.types.labels import Direction

FloatArray = NDArray[np.float64]


class Label(StrEnum):
    PASS = "Pass"
    HIGH = "High"
    LOW = "Low"
    NODATA = "Nodata"
    ERROR = "Error"


class ScoreClass(StrEnum):
    """ThresholdScoreClassifier's outcome for the canary as a whole."""

    PASS = "Pass"
    MARGINAL = "Marginal"
    FAIL = "Fail"


@dataclass(frozen=True)
class MannWhitneyResult:
    estimate: float
    low: float
    high: float


@dataclass(frozen=True)
class Classification:
    label: Label
    critical: bool = False
    deviation: float = 1.0
    mw: MannWhitneyResult | None = None
    reason: str = ""
    details: Mapping[str, float] = field(default_factory=dict)


def mann_whitney_ci(
    canary: FloatArray, baseline: FloatArray, confidence: float
) -> MannWhitneyResult:
    """Kayenta's (R's asymptotic) interval and estimate for the shift `canary - baseline`.

    The function whose roots give the interval is a step function of the shift, so each root
    is a jump, i.e. one of the pairwise differences; the solver's answer is snapped to it (R's
    and Kayenta's solvers stop within their tolerance of the jump, 1e-4 and 1e-6). Raises
    ValueError when every observation is tied (Kayenta then classifies the metric Error).
    """
    x, y = canary, baseline
    mu_min, mu_max = float(x.min() - y.max()), float(x.max() - y.min())
    jumps = np.unique(np.subtract.outer(x, y))

    def wdiff(d: float, zq: float) -> float:
        return wilcoxon_diff(x, y, d, zq)

    def root(zq: float) -> float:
        if wdiff(mu_min, zq) <= 0:
            return mu_min
        if wdiff(mu_max, zq) >= 0:
            return mu_max
        return snap(float(brentq(wdiff, mu_min, mu_max, args=(zq,), xtol=1e-12)))

    def snap(r: float) -> float:
        i = int(np.argmin(np.abs(jumps - r)))
        return float(jumps[i]) if abs(jumps[i] - r) <= 1e-9 * (1.0 + abs(r)) else r

    z = float(norm.ppf(1 - (1 - confidence) / 2))
    if not wdiff(mu_min, 0.0) > 0 > wdiff(mu_max, 0.0):
        raise ValueError("no sign change for the shift estimate")
    estimate = snap(float(brentq(wdiff, mu_min, mu_max, args=(0.0,), xtol=1e-12)))
    return MannWhitneyResult(estimate, root(z), root(-z))


def wilcoxon_diff(x: FloatArray, y: FloatArray, d: float, zq: float) -> float:
    """R's `wdiff`: the continuity-corrected normal score of the rank sum of `x - d` vs `y`."""
    nx, ny = len(x), len(y)
    ranks = rankdata(np.concatenate((x - d, y)))
    dz = float(ranks[:nx].sum()) - nx * (nx + 1) / 2 - nx * ny / 2
    _, ties = np.unique(ranks, return_counts=True)
    n = nx + ny
    sigma = math.sqrt(nx * ny / 12 * ((n + 1) - float((ties**3 - ties).sum()) / (n * (n - 1))))
    if sigma == 0:
        raise ValueError("cannot compute confidence interval when all observations are tied")
    return (dz - 0.5 * float(np.sign(dz))) / sigma - zq


def remove_outliers(values: FloatArray, factor: float = 3.0) -> FloatArray:
    """Kayenta's IQRDetector(factor, reduceSensitivity = true)."""
    if values.size == 0:
        return values
    p01, p25, p75, p99 = np.percentile(values, [1, 25, 75, 99])
    lo = min(p01, p25 - factor * (p75 - p25))
    hi = max(p99, p75 + factor * (p75 - p25))
    return values[(values >= lo) & (values <= hi)]


def classify(
    canary: Sequence[float] | FloatArray,
    baseline: Sequence[float] | FloatArray,
    *,
    direction: Direction = Direction.EITHER,
    confidence: float = 0.98,
    tolerance: float = 0.25,
    allowed_increase: float = 1.0,
    allowed_decrease: float = 1.0,
    critical: bool = False,
    nan_strategy: str = "remove",
    outlier_factor: float | None = 3.0,
) -> Classification:
    """One metric, as NetflixACAJudge + MannWhitneyClassifier classify it."""
    x, y = (
        _clean(np.asarray(v, dtype=np.float64), nan_strategy, outlier_factor)
        for v in (canary, baseline)
    )
    if x.size == 0 or y.size == 0:
        if nan_strategy == "remove":
            return Classification(Label.NODATA, critical, reason="missing data")
        return Classification(Label.PASS, reason="missing data (nanStrategy replace)")
    if np.array_equal(np.sort(x), np.sort(y)):
        return Classification(Label.PASS, reason="the canary and baseline data are identical")
    if np.unique(np.concatenate((x, y))).size == 1:
        return Classification(Label.PASS)
    if np.unique(x).size == 1 and np.unique(y).size == 1:  # Kayenta jitters degenerate data
        rng = np.random.default_rng(0)
        x = x + rng.normal(0.0, abs(x[0]) * 1e-5, x.size)
        y = y + rng.normal(0.0, abs(y[0]) * 1e-5, y.size)
    try:
        mw = mann_whitney_ci(x, y, confidence)
    except ValueError as exc:
        return Classification(Label.ERROR, critical, reason=f"classification failed: {exc}")
    mean_y = float(y.mean())
    deviation = 1.0 if mean_y == 0 else float(x.mean()) / mean_y
    bound = tolerance * abs(mw.estimate)
    details = {
        "estimate": mw.estimate,
        "ci_low": mw.low,
        "ci_high": mw.high,
        "canary_mean": float(x.mean()),
        "baseline_mean": mean_y,
        "ratio": deviation,
        "canary_points": float(x.size),
        "baseline_points": float(y.size),
    }
    up = direction in (Direction.INCREASE, Direction.EITHER)
    down = direction in (Direction.DECREASE, Direction.EITHER)
    if up and mw.low > bound and deviation >= allowed_increase:
        return Classification(Label.HIGH, critical, deviation, mw, "classified High", details)
    if down and mw.high < -bound and deviation <= allowed_decrease:
        return Classification(Label.LOW, critical, deviation, mw, "classified Low", details)
    return Classification(Label.PASS, False, deviation, mw, "", details)


def score(results: Sequence[Classification]) -> float:
    """WeightedSumScorer with a single metric group."""
    if any(r.critical and r.label is not Label.PASS for r in results):
        return 0.0
    counted = [r for r in results if r.label in (Label.PASS, Label.HIGH, Label.LOW)]
    if not counted:
        return 0.0
    return 100.0 * sum(r.label is Label.PASS for r in counted) / len(counted)


def score_class(value: float, pass_threshold: float = 95.0, marginal: float = 75.0) -> ScoreClass:
    """ThresholdScoreClassifier: PASS, MARGINAL or FAIL."""
    if value >= pass_threshold:
        return ScoreClass.PASS
    return ScoreClass.MARGINAL if value >= marginal else ScoreClass.FAIL


def _clean(v: FloatArray, nan_strategy: str, outlier_factor: float | None) -> FloatArray:
    v = v[~np.isnan(v)] if nan_strategy == "remove" else np.where(np.isnan(v), 0.0, v)
    return v if outlier_factor is None else remove_outliers(v, outlier_factor)
