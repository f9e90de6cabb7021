"""From a forecast to an outlook on an objective: when it will be crossed, and how surely."""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy.stats import norm

from sentra_ml.analysis.forecast.holt import Holt


@dataclass(frozen=True)
class Outlook:
    """`seconds_to_breach`: when the forecast mean crosses the objective (0: already beyond it,
    inf: not within the horizon). `p_breach`: the largest single-step probability of being
    beyond it within the horizon, a lower bound on the chance of crossing at some point."""

    seconds_to_breach: float
    p_breach: float
    mean_at_horizon: float
    high_at_horizon: float  # upper end of the 90 % prediction interval


def outlook(model: Holt, objective: float, horizon_steps: int, step_seconds: float) -> Outlook:
    """Where an increase-is-bad SLI stands against `objective` over the next `horizon_steps`."""
    if model.level is None or math.isnan(model.sigma):
        return Outlook(math.inf, 0.0, math.nan, math.nan)
    first = math.inf
    p_max = 0.0
    mean = high = math.nan
    for h in range(1, horizon_steps + 1):
        mean = model.forecast(h)
        sd = math.sqrt(max(model.variance(h), 1e-300))
        if mean >= objective and math.isinf(first):
            first = (h - 1) * step_seconds
        p_max = max(p_max, float(norm.sf(objective, loc=mean, scale=sd)))
        high = mean + 1.6449 * sd
    if model.level >= objective:
        first = 0.0
    return Outlook(first, p_max, mean, high)
