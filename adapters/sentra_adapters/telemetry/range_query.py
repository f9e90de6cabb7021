"""What the range-query sources (Prometheus, Loki) share: the configuration checks, a window
cut into a grid of `step` seconds, fetched in chunks, and samples built per metric kind."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import ClassVar, Generic, TypeVar

import httpx

from sentra_adapters.errors import BadResponse, Misconfigured
from sentra_adapters.options import cohort_names
from sentra_adapters.telemetry.base import Window, by_name, grid, requested
from sentra_adapters.telemetry.templates import TemplatedMetric
from sentra_ml.analysis.types.errors import SampleError
from sentra_ml.analysis.types.labels import Cohort
from sentra_ml.analysis.types.samples import Sample

MAX_POINTS = 10_000  # both refuse range queries of more than 11,000 points per series

M = TypeVar("M", bound=TemplatedMetric)
R = TypeVar("R")  # what one query over the window gives back


def chunks(first: float, last: float, step: float) -> Iterator[tuple[float, float]]:
    """[first, last] on a grid of `step`, in pieces of at most MAX_POINTS points."""
    while first <= last:
        upto = min(last, first + MAX_POINTS * step - step)
        yield first, upto
        first = upto + step


class RangeQuerySource(ABC, Generic[M, R]):
    """Samples of interval `step` seconds from one range-query HTTP API at `url`.

    `cohorts` maps each cohort to its matchers; a `client` may be injected (tests, auth).
    """

    kind: ClassVar[str]

    def __init__(
        self,
        *,
        url: str,
        cohorts: Mapping[str, str],
        metrics: Sequence[M],
        step: float,
        timeout: float,
        client: httpx.Client | None,
    ) -> None:
        if not step >= 0.001:  # query intervals here are whole milliseconds
            raise Misconfigured(self.kind, f"step: must be >= 0.001 s, got {step}")
        self.url = url.rstrip("/")
        self.cohorts = cohort_names(self.kind, cohorts, "cohorts")
        self._metrics = by_name(self.kind, metrics)
        self.step = step
        self.timeout = timeout
        self.client = client or httpx.Client(timeout=timeout)

    def metrics(self) -> Sequence[str]:
        """The configured metric names."""
        return list(self._metrics)

    def fetch(self, metric: str, cohort: Cohort, start: float, end: float) -> Window:
        """Samples whose intervals end in [start, end], on a grid of `step` seconds so that
        successive windows tile without overlap."""
        spec, cohort = requested(self.kind, self._metrics, self.cohorts, metric, cohort)
        first, last = grid(start, end, self.step)
        results = {
            name: self._range(spec.render(name, self.cohorts[cohort], self.step), first, last)
            for name in spec.queries
        }
        try:
            samples = tuple(self._samples(spec, cohort, results))
        except (SampleError, ValueError) as e:
            raise BadResponse(self.kind, f"{metric}: values Sentra cannot use: {e}") from e
        return Window(metric, cohort, start, end, samples)

    def close(self) -> None:
        """Closes the HTTP client."""
        self.client.close()

    @abstractmethod
    def _range(self, query: str, first: float, last: float) -> R:
        """One query over [first, last], merged over `chunks`."""

    @abstractmethod
    def _samples(self, spec: M, cohort: Cohort, results: Mapping[str, R]) -> Iterable[Sample]:
        """The samples of one metric from its queries' results."""
