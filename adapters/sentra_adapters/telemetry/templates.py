"""Metrics as query templates: ``$selector`` is a cohort's matchers, ``$interval`` one
evaluation interval, so each point of a range query is one interval's sample (PromQL, LogQL)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from string import Template
from typing import ClassVar

from sentra_adapters.errors import Misconfigured
from sentra_ml.analysis.types.labels import MetricKind


@dataclass(frozen=True)
class TemplatedMetric:
    """A metric's named query templates, checked when built; subclasses name their backend and
    the queries each kind needs."""

    backend: ClassVar[str]
    query_names: ClassVar[Mapping[MetricKind, tuple[str, ...]]]

    name: str
    kind: MetricKind
    queries: Mapping[str, str]
    _templates: Mapping[str, Template] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        where = f"metrics[{self.name}]"
        kind = MetricKind(self.kind)
        if kind not in self.query_names:
            raise Misconfigured(self.backend, f"{where}: {self.backend} has no {kind} samples")
        wanted = self.query_names[kind]
        if set(self.queries) != set(wanted):
            raise Misconfigured(self.backend, f"{where}: a {kind} metric needs {sorted(wanted)}")
        for key, text in self.queries.items():
            # without the selector both cohorts would read the same series
            if "$selector" not in text:
                raise Misconfigured(self.backend, f"{where}.{key}: the query must use $selector")
        templates = {key: Template(text) for key, text in self.queries.items()}
        object.__setattr__(self, "_templates", templates)

    def render(self, query: str, selector: str, interval_seconds: float) -> str:
        """The query text of `query` for one cohort."""
        interval = f"{round(interval_seconds * 1000)}ms"
        try:
            return self._templates[query].substitute(selector=selector, interval=interval)
        except (KeyError, ValueError) as e:
            raise Misconfigured(
                self.backend, f"metrics[{self.name}].{query}: bad template {e}"
            ) from e
