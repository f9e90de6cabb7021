"""Telemetry lines into samples, with per-series state: cumulative counters become increments."""

from __future__ import annotations

from sentra_ml.analysis.stats.counters import CounterDeltas
from sentra_ml.analysis.types.errors import SampleError
from sentra_ml.analysis.types.labels import Cohort
from sentra_ml.analysis.types.samples import RatioSample, Sample
from sentra_ml.spec import TelemetryLine

_Series = tuple[Cohort, str, str]


class CounterIngest:
    """Turns lines into samples; `counter: true` lines are cumulative readings per series
    (cohort, metric, instance): their increments are emitted, a decrease counts as a reset
    (as in Prometheus' `increase()`), and the first reading of a series yields nothing."""

    def __init__(self) -> None:
        self._series: dict[_Series, tuple[CounterDeltas, CounterDeltas]] = {}

    def sample(self, line: TelemetryLine) -> Sample | None:
        if not line.counter:
            return line.to_sample()
        if line.total is None or line.failed is None:
            raise SampleError("counter: a counter line needs total and failed readings")
        if line.failed > line.total:
            raise SampleError(f"failed: {line.failed} exceeds total {line.total}")
        key = (line.cohort, line.metric, line.instance)
        total, failed = self._series.setdefault(key, (CounterDeltas(), CounterDeltas()))
        d_total, d_failed = total.update(line.total), failed.update(line.failed)
        if d_total is None or d_failed is None:
            return None
        # the two counters of one process reset together; a lone reset of one is clipped
        return RatioSample(line.ts, line.cohort, line.metric, d_total, min(d_failed, d_total))
