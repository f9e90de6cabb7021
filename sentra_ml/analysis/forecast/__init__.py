"""SLO-drift forecasting: where an SLI is heading, how fast the error budget burns, and when (and
how surely) it will cross its objective."""

from sentra_ml.analysis.forecast.breach import Outlook, outlook
from sentra_ml.analysis.forecast.burn import BurnWindow, MultiWindowBurnRate, burn_rate
from sentra_ml.analysis.forecast.holt import Holt, fit_holt
from sentra_ml.analysis.forecast.trend import LinearTrend

__all__ = [
    "BurnWindow",
    "Holt",
    "LinearTrend",
    "MultiWindowBurnRate",
    "Outlook",
    "burn_rate",
    "fit_holt",
    "outlook",
]
