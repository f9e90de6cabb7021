"""The TelemetrySource protocol: windows of samples per cohort and metric.

"No data" is a label (an empty window), not an exception; a source that cannot answer raises
Unavailable, so the judge can tell a silent canary from a broken metrics backend.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol, TypeVar, runtime_checkable

from sentra_adapters.errors import Misconfigured
from sentra_ml.analysis.types.labels import Cohort
from sentra_ml.analysis.types.samples import Sample


@dataclass(frozen=True)
class Window:
    """The samples of one metric and cohort whose intervals end in [start, end] (seconds)."""

    metric: str
    cohort: Cohort
    start: float
    end: float
    samples: tuple[Sample, ...]

    @property
    def no_data(self) -> bool:
        """True when the source holds nothing for this metric and cohort in the window."""
        return not self.samples


@runtime_checkable
class TelemetrySource(Protocol):
    """Fetches windows of samples; every failure is an AdapterError naming the backend."""

    kind: ClassVar[str]

    def metrics(self) -> Sequence[str]:
        """The metric names this source can fetch."""
        ...

    def fetch(self, metric: str, cohort: Cohort, start: float, end: float) -> Window:
        """The samples of `metric` for `cohort` between `start` and `end` (Unix seconds)."""
        ...


class Named(Protocol):
    @property
    def name(self) -> str: ...


N = TypeVar("N", bound=Named)


def by_name(backend: str, metrics: Sequence[N]) -> dict[str, N]:
    """A source's metrics by name; Misconfigured when two share one."""
    named = {m.name: m for m in metrics}
    if len(named) != len(metrics):
        raise Misconfigured(backend, "metrics: duplicate names")
    return named


def requested(
    backend: str, metrics: Mapping[str, N], cohorts: Mapping[Cohort, Any], metric: str, cohort: str
) -> tuple[N, Cohort]:
    """The metric and cohort a fetch asks for; Misconfigured naming an unknown one."""
    spec = metrics.get(metric)
    if spec is None:
        raise Misconfigured(backend, f"unknown metric {metric!r}; known: {list(metrics)}")
    if cohort not in cohorts:
        raise Misconfigured(backend, f"unknown cohort {cohort!r}")
    return spec, Cohort(cohort)


def grid(start: float, end: float, step: float) -> tuple[float, float]:
    """The first and last multiples of `step` in [start, end], so that successive windows tile
    without overlap (first > last when there is none)."""
    return math.ceil(start / step) * step, math.floor(end / step) * step
