"""One analyzer class per metric kind; an unknown kind is refused, never defaulted."""

from __future__ import annotations

from sentra_ml.analysis.evidence.base import MetricAnalyzer
from sentra_ml.analysis.evidence.gauge import GaugeAnalyzer
from sentra_ml.analysis.evidence.latency import LatencyAnalyzer
from sentra_ml.analysis.evidence.ratio import RatioAnalyzer
from sentra_ml.analysis.types.errors import SpecError
from sentra_ml.analysis.types.labels import MetricKind
from sentra_ml.analysis.types.specs import CHANGEPOINT_SECONDS, MetricSpec

ANALYZERS: dict[MetricKind, type[MetricAnalyzer]] = {
    MetricKind.RATIO: RatioAnalyzer,
    MetricKind.LATENCY: LatencyAnalyzer,
    MetricKind.GAUGE: GaugeAnalyzer,
}


def make_analyzer(
    spec: MetricSpec,
    alpha: float,
    start_ts: float = 0.0,
    gate_alpha: float = 0.2,
    changepoint_seconds: float = CHANGEPOINT_SECONDS,
) -> MetricAnalyzer:
    """The analyzer for a metric's kind, spending `alpha` on its regression tests, which look
    for an onset in the first `changepoint_seconds` (0: cumulative tests)."""
    try:
        cls = ANALYZERS[spec.kind]
    except KeyError:
        raise SpecError(f"metrics[{spec.name}].kind: no analyzer for kind {spec.kind!r}") from None
    return cls(spec, alpha, start_ts, gate_alpha, changepoint_seconds)
