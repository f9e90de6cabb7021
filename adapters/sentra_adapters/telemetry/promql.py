"""PromQL templates per metric: ``$selector`` is the cohort's label matchers, ``$interval`` the
length of one evaluation interval, so each point of a range query is one interval's sample."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from string import Template
from typing import Any

from sentra_adapters.errors import Misconfigured
from sentra_ml.analysis.types import MetricKind

_BACKEND = "prometheus"
# the queries each kind needs: counters of requests, histogram buckets, or a gauge
QUERY_NAMES: Mapping[MetricKind, tuple[str, ...]] = {
    MetricKind.RATIO: ("total", "failed"),
    MetricKind.LATENCY: ("buckets",),
    MetricKind.GAUGE: ("value",),
}


@dataclass(frozen=True)
class PromMetric:
    """A metric as PromQL templates; `scale` multiplies bucket bounds (1000: seconds -> ms),
    `instance_label` names the label that tells a gauge's instances apart."""

    name: str
    kind: MetricKind
    queries: Mapping[str, str]
    scale: float = 1.0
    instance_label: str = "instance"
    _templates: Mapping[str, Template] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        where = f"metrics[{self.name}]"
        wanted = set(QUERY_NAMES[MetricKind(self.kind)])
        if set(self.queries) != wanted:
            raise Misconfigured(_BACKEND, f"{where}: a {self.kind} metric needs {sorted(wanted)}")
        for key, text in self.queries.items():
            # without the selector both cohorts would read the same series
            if "$selector" not in text:
                raise Misconfigured(_BACKEND, f"{where}.{key}: the query must use $selector")
        templates = {key: Template(text) for key, text in self.queries.items()}
        object.__setattr__(self, "_templates", templates)

    def render(self, query: str, selector: str, interval_seconds: float) -> str:
        """The PromQL text of `query` for one cohort."""
        interval = f"{round(interval_seconds * 1000)}ms"
        try:
            return self._templates[query].substitute(selector=selector, interval=interval)
        except (KeyError, ValueError) as e:
            raise Misconfigured(_BACKEND, f"metrics[{self.name}].{query}: bad template {e}") from e

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> PromMetric:
        """From a spec mapping: ``{name, kind, total, failed}`` (or ``buckets`` / ``value``)."""
        try:
            kind = MetricKind(config["kind"])
            return cls(
                name=str(config["name"]),
                kind=kind,
                queries={q: str(config[q]) for q in QUERY_NAMES[kind]},
                scale=float(config.get("scale", 1.0)),
                instance_label=str(config.get("instance_label", "instance")),
            )
        except (KeyError, ValueError) as e:
            raise Misconfigured(_BACKEND, f"metrics: bad entry {dict(config)!r}: {e}") from e


def error_ratio(name: str, requests: str, failed: str = 'code=~"5.."') -> PromMetric:
    """Failed / total requests from one counter; `increase` handles counter resets."""
    return PromMetric(
        name,
        MetricKind.RATIO,
        {
            "total": f"sum(increase({requests}{{$selector}}[$interval]))",
            "failed": f"sum(increase({requests}{{$selector,{failed}}}[$interval]))",
        },
    )


def histogram(name: str, metric: str, scale: float = 1.0) -> PromMetric:
    """Per-interval bucket counts of a Prometheus histogram (`metric` without ``_bucket``)."""
    query = f"sum by (le) (increase({metric}_bucket{{$selector}}[$interval]))"
    return PromMetric(name, MetricKind.LATENCY, {"buckets": query}, scale=scale)


def gauge(name: str, metric: str, instance_label: str = "instance") -> PromMetric:
    """A gauge's mean per instance over each interval."""
    query = f"avg by ({instance_label}) (avg_over_time({metric}{{$selector}}[$interval]))"
    return PromMetric(name, MetricKind.GAUGE, {"value": query}, instance_label=instance_label)
