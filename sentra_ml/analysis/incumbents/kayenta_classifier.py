"""Kayenta's Mann-Whitney classifier for one metric (Pass / High / Low / Nodata), on Sentra's
exact Hodges-Lehmann interval (`stats.mann_whitney`); the port of Kayenta's whole judge, with its
asymptotic interval, is `kayenta_judge`.

Reference: Spinnaker Kayenta, `kayenta-judge` `MannWhitneyClassifier` and `NetflixACAJudge`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np

from sentra_ml.analysis.incumbents.kayenta_judge import Label
from sentra_ml.analysis.stats.fixed_horizon import Values
from sentra_ml.analysis.stats.mann_whitney import mann_whitney
from sentra_ml.analysis.types.labels import Direction


@dataclass(frozen=True)
class KayentaClassification:
    """What Kayenta's Mann-Whitney classifier concludes for one metric.

    `label` is PASS, HIGH, LOW or NODATA; `critical` whether a High/Low of a critical
    metric fails the whole canary; `deviation` the ratio of means canary / baseline (nan when a
    mean is 0); `estimate`, `low`, `high` the Hodges-Lehmann shift and its interval.
    """

    label: Label
    critical: bool
    deviation: float
    estimate: float
    low: float
    high: float
    reason: str


def kayenta_compare(
    canary: Values,
    baseline: Values,
    direction: Direction | str = Direction.EITHER,
    tolerance: float = 0.25,
    confidence: float = 0.98,
    *,
    allowed_increase: float = 1.0,
    allowed_decrease: float = 1.0,
    critical: bool = False,
    critical_increase: float = 1.0,
    critical_decrease: float = 1.0,
    nan_strategy: Literal["remove", "replace"] = "remove",
) -> KayentaClassification:
    """Kayenta's `MannWhitneyClassifier`, as documented by Kayenta (its `kayenta-judge` source).

    The steps, in Kayenta's order (canary = "experiment", baseline = "control"):

    1. NaNs are removed (`nan_strategy="remove"`, Kayenta's default) or replaced by 0.
    2. No values on either side: "Nodata" with "remove" (critical if the metric is), "Pass"
       with "replace".
    3. The same values on both sides (as multisets), or a single distinct value overall: "Pass".
    4. Mann-Whitney with the Hodges-Lehmann estimate `est` of canary - baseline and its
       interval `(low, high)` at `confidence` (0.98 in `NetflixACAJudge`). If each side is
       constant, Kayenta adds tiny Gaussian noise (sd 1e-5 x the value) to break the ties; here
       that limit is taken exactly: `est = low = high = canary - baseline`.
    5. The bounds are a fraction of the estimate itself: `+-tolerance * |est|`. "High" when the
       direction allows an increase and `low > tolerance * |est|`; "Low" when it allows a
       decrease and `high < -tolerance * |est|`. Either also needs the effect size
       `deviation = mean(canary) / mean(baseline)` to reach `allowed_increase` (High) or
       `allowed_decrease` (Low) (Kayenta's `effectSize.allowedIncrease / allowedDecrease`,
       default 1.0; ignored when the deviation is nan).
    6. A High/Low of a `critical` metric is critical when the deviation also reaches
       `critical_increase` / `critical_decrease` (`effectSize.criticalIncrease / Decrease`).

    Kayenta does not use the p-value: a High needs `low > 0`, i.e. an interval that excludes
    no shift, which is the test's rejection at `1 - confidence`. Kayenta's judge also removes
    outliers (IQR fences, factor 3) before classifying; that preprocessing is not done here.
    Kayenta's interval inverts the normal approximation (R's `wilcox.test` asymptotic code);
    this one is exact for small samples, so labels can differ at the margin.

    >>> rng = np.random.default_rng(5)
    >>> base = rng.normal(100.0, 5.0, 60)
    >>> kayenta_compare(base + 30.0, base, "increase").label
    <Label.HIGH: 'High'>
    """
    d = Direction(direction)
    c = np.asarray(canary, dtype=np.float64).ravel()
    b = np.asarray(baseline, dtype=np.float64).ravel()
    if nan_strategy == "remove":
        c, b = c[~np.isnan(c)], b[~np.isnan(b)]
    else:
        c, b = np.nan_to_num(c, nan=0.0), np.nan_to_num(b, nan=0.0)
    nan3 = (math.nan, math.nan, math.nan)
    if c.size == 0 or b.size == 0:
        if nan_strategy == "remove":
            return KayentaClassification(Label.NODATA, critical, 1.0, *nan3, "missing data")
        return KayentaClassification(Label.PASS, False, 1.0, *nan3, "missing data")
    if c.size == b.size and np.array_equal(np.sort(c), np.sort(b)):
        return KayentaClassification(Label.PASS, False, 1.0, 0.0, 0.0, 0.0, "identical data")
    if np.unique(np.concatenate((c, b))).size == 1:
        return KayentaClassification(Label.PASS, False, 1.0, 0.0, 0.0, 0.0, "a single value")

    if np.unique(c).size == 1 and np.unique(b).size == 1:
        est = low = high = float(c[0] - b[0])
    else:
        mw = mann_whitney(c, b, confidence)
        est, low, high = mw.estimate, mw.low, mw.high
    mean_c, mean_b = float(np.mean(c)), float(np.mean(b))
    deviation = math.nan if mean_b == 0.0 or mean_c == 0.0 else mean_c / mean_b
    bound = tolerance * abs(est)
    is_high = d in (Direction.INCREASE, Direction.EITHER) and low > bound
    is_low = d in (Direction.DECREASE, Direction.EITHER) and high < -bound
    if not math.isnan(deviation):
        is_high = is_high and deviation >= allowed_increase
        is_low = is_low and deviation <= allowed_decrease
    label = Label.HIGH if is_high else Label.LOW if is_low else Label.PASS
    is_critical = False
    if critical and label is not Label.PASS:
        limit_ok = (
            deviation >= critical_increase
            if label is Label.HIGH
            else deviation <= critical_decrease
        )
        is_critical = math.isnan(deviation) or limit_ok
    reason = f"hodges-lehmann {est:.6g} in [{low:.6g}, {high:.6g}], bound +-{bound:.6g}"
    return KayentaClassification(label, is_critical, deviation, est, low, high, reason)


def kayenta_classify(
    canary: Values,
    baseline: Values,
    direction: Direction | str,
    tolerance: float = 0.25,
    confidence: float = 0.98,
    *,
    allowed_increase: float = 1.0,
    allowed_decrease: float = 1.0,
) -> Label:
    """The label (PASS, HIGH, LOW, NODATA) of Kayenta's Mann-Whitney classifier.

    As documented by Kayenta; see `kayenta_compare` for the rule and for critical metrics.

    >>> kayenta_classify([10.0, 11.0, 12.0, 10.5], [10.2, 11.1, 11.9, 10.4], "either")
    <Label.PASS: 'Pass'>
    >>> kayenta_classify([], [1.0], "increase")
    <Label.NODATA: 'Nodata'>
    """
    return kayenta_compare(
        canary,
        baseline,
        direction,
        tolerance,
        confidence,
        allowed_increase=allowed_increase,
        allowed_decrease=allowed_decrease,
    ).label
