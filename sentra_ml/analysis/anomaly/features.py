"""The feature dict of one service interval, built from its per-interval metrics."""

from __future__ import annotations

import math
from collections.abc import Mapping

from sentra_ml.analysis.anomaly.tracker import SECONDS_PER_DAY


def interval_features(
    *,
    requests: float | None = None,
    ratios: Mapping[str, tuple[float, float]] | None = None,
    latency: Mapping[str, Mapping[float, float]] | None = None,
    gauges: Mapping[str, float] | None = None,
    ts: float | None = None,
) -> dict[str, float]:
    """Features of one interval: logs of traffic and latency quantiles, ratios, gauges, hour.

    `ratios` maps a metric to (failed, total); an interval without traffic gives no ratio
    rather than a fake 0. Logs make latency and traffic changes relative, as operators read them.
    The hour (UTC) comes as sine and cosine so that the joint trees can relate values to it.

    >>> f = interval_features(requests=99.0, ratios={"errors": (2, 100)},
    ...                       latency={"latency_ms": {0.99: 250.0}}, ts=6 * 3600.0)
    >>> sorted(f), f["errors.ratio"], round(f["tod.sin"], 6)
    (['errors.ratio', 'latency_ms.p99.log', 'tod.cos', 'tod.sin', 'traffic.log'], 0.02, 1.0)
    """
    out: dict[str, float] = {}
    if requests is not None:
        out["traffic.log"] = math.log1p(max(requests, 0.0))
    for name, (failed, total) in (ratios or {}).items():
        if total > 0:
            out[f"{name}.ratio"] = failed / total
    for name, quantiles in (latency or {}).items():
        for q, value in quantiles.items():
            out[f"{name}.p{round(q * 100):d}.log"] = math.log1p(max(value, 0.0))
    for name, value in (gauges or {}).items():
        out[name] = float(value)
    if ts is not None:
        angle = 2 * math.pi * (ts % SECONDS_PER_DAY) / SECONDS_PER_DAY
        out["tod.sin"], out["tod.cos"] = math.sin(angle), math.cos(angle)
    return out
