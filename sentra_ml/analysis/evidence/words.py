"""Numbers in the words a person reads in a verdict."""

from __future__ import annotations

import math

from sentra_ml.analysis.types.verdict import Interval


def percent_change(x: float) -> str:
    """+0.38 -> '+38 %'."""
    if math.isinf(x):
        return "+inf" if x > 0 else "-inf"
    if math.isnan(x):
        return "n/a"
    return f"{x * 100:+.0f} %" if abs(x) >= 0.1 else f"{x * 100:+.1f} %"


def effect_text(label: str, effect: Interval) -> str:
    """'p99 latency +38 % [+25 %, +51 %]'."""
    return (
        f"{label} {percent_change(effect.estimate)} "
        f"[{percent_change(effect.low)}, {percent_change(effect.high)}]"
    )


def quantity(x: float) -> str:
    """A value with a sensible number of digits."""
    if math.isnan(x):
        return "n/a"
    if abs(x) >= 100:
        return f"{x:.0f}"
    if abs(x) >= 1:
        return f"{x:.2f}".rstrip("0").rstrip(".")
    return f"{x:.3g}"
