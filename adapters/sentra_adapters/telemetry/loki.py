"""Loki source: LogQL metric queries over ``/loki/api/v1/query_range``, one point per interval.

A ratio metric counts log lines per interval, all of them (``total``) and the failed ones
(``failed``), e.g. ``sum(count_over_time({$selector} |= "error" [$interval]))``; a gauge is any
LogQL metric query (``value``), such as a line count or an ``unwrap``-ped field. ``$selector`` is
the cohort's stream matchers, ``$interval`` one interval as a LogQL duration. An interval
without lines has no point in the matrix, so a silent cohort is "no data", an empty window.

Errors: no answer, 429 (Loki's query limits and queue) and 5xx are Unavailable; 400 (LogQL that
does not parse, a range too long) Rejected; 401/403/404 (no tenant, wrong URL) Misconfigured; an
answer that is not the API's JSON BadResponse. Loki answers errors as plain text.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import httpx

from sentra_adapters.errors import BadResponse, Misconfigured
from sentra_adapters.http import get, raise_for_status
from sentra_adapters.telemetry.range_query import RangeQuerySource, chunks
from sentra_adapters.telemetry.templates import TemplatedMetric
from sentra_ml.analysis.types.labels import Cohort, MetricKind
from sentra_ml.analysis.types.samples import GaugeSample, RatioSample, Sample

_BACKEND = "loki"
_QUERIES: Mapping[MetricKind, tuple[str, ...]] = {
    MetricKind.RATIO: ("total", "failed"),
    MetricKind.GAUGE: ("value",),
}
_Points = dict[float, float]  # value per timestamp, summed over the series


@dataclass(frozen=True)
class LogMetric(TemplatedMetric):
    """A metric as LogQL templates: ``total`` and ``failed`` (ratio) or ``value`` (gauge)."""

    backend: ClassVar[str] = _BACKEND
    query_names: ClassVar[Mapping[MetricKind, tuple[str, ...]]] = _QUERIES

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> LogMetric:
        """From a spec mapping: ``{name, kind, total, failed}`` or ``{name, kind, value}``."""
        try:
            kind = MetricKind(config["kind"])
            names = _QUERIES.get(kind, ())
            return cls(str(config["name"]), kind, {q: str(config[q]) for q in names})
        except (KeyError, ValueError) as e:
            raise Misconfigured(_BACKEND, f"metrics: bad entry {dict(config)!r}: {e}") from e


def error_lines(name: str, failed: str = '|= "error"') -> LogMetric:
    """Lines matching the line filter `failed` / all lines of the cohort's streams.

    >>> error_lines("errors").render("failed", 'app="shop", track="canary"', 10)
    'sum(count_over_time({app="shop", track="canary"} |= "error" [10000ms]))'
    """
    return LogMetric(
        name,
        MetricKind.RATIO,
        {
            "total": "sum(count_over_time({$selector}[$interval]))",
            "failed": f"sum(count_over_time({{$selector}} {failed} [$interval]))",
        },
    )


def line_count(name: str, line_filter: str = "") -> LogMetric:
    """The number of lines (matching `line_filter`, if any) per interval."""
    query = f"sum(count_over_time({{$selector}} {line_filter} [$interval]))".replace("  ", " ")
    return LogMetric(name, MetricKind.GAUGE, {"value": query})


class LokiSource(RangeQuerySource[LogMetric, _Points]):
    """Samples of interval `step` seconds from the Loki HTTP API at `url`.

    `cohorts` maps each cohort to its stream matchers (``app="shop", track="canary"``);
    `metrics` are LogMetric objects or their spec mappings; `tenant` is sent as
    ``X-Scope-OrgID`` (multi-tenant Loki). A `client` may be injected (tests, auth).
    """

    kind: ClassVar[str] = "loki"

    def __init__(
        self,
        *,
        url: str,
        cohorts: Mapping[str, str],
        metrics: Sequence[LogMetric | Mapping[str, Any]],
        step: float = 10.0,
        tenant: str | None = None,
        timeout: float = 5.0,
        client: httpx.Client | None = None,
    ) -> None:
        parsed = [m if isinstance(m, LogMetric) else LogMetric.from_config(m) for m in metrics]
        super().__init__(
            url=url, cohorts=cohorts, metrics=parsed, step=step, timeout=timeout, client=client
        )
        self.tenant = tenant

    def _range(self, query: str, first: float, last: float) -> _Points:
        merged: _Points = defaultdict(float)
        for lo, hi in chunks(first, last, self.step):
            for ts, value in self.query_range(query, lo, hi).items():
                merged[ts] += value
        return dict(merged)

    def _samples(
        self, spec: LogMetric, cohort: Cohort, results: Mapping[str, _Points]
    ) -> Iterable[Sample]:
        return _build_samples(spec, cohort, results)

    def query_range(self, query: str, start: float, end: float) -> _Points:
        """One range query, its series summed per timestamp (Unix seconds)."""
        params = {
            "query": query,
            "start": str(round(start * 1e9)),  # nanosecond Unix epoch, the documented form
            "end": str(round(end * 1e9)),
            "step": f"{self.step:g}",
        }
        path = "/loki/api/v1/query_range"
        response = get(self.kind, self.client, self.url, path, params, self.tenant)
        raise_for_status(self.kind, f"query {query!r}", response)
        return _matrix(query, response)


def _matrix(query: str, response: httpx.Response) -> _Points:
    try:
        body = response.json()
        data = body["data"]
        if response.status_code != 200 or body.get("status") != "success":
            raise ValueError(f"HTTP {response.status_code}, status {body.get('status')!r}")
        if data.get("resultType") != "matrix":
            raise ValueError(f"a {data.get('resultType')} result, not a matrix")
        points: _Points = defaultdict(float)
        for series in data["result"]:
            for ts, value in series["values"]:
                number = float(value)
                if math.isfinite(number):
                    points[float(ts)] += number
        return dict(points)
    except (KeyError, TypeError, ValueError, AttributeError) as e:
        raise BadResponse(_BACKEND, f"query {query!r}: not a Loki matrix: {e!r}") from e


def _build_samples(
    spec: LogMetric, cohort: Cohort, points: Mapping[str, _Points]
) -> Iterable[Sample]:
    if spec.kind is MetricKind.GAUGE:
        for ts, value in sorted(points["value"].items()):
            yield GaugeSample(ts, cohort, spec.name, value)
        return
    failed = points["failed"]
    for ts, total in sorted(points["total"].items()):
        if total <= 0:
            continue  # no lines at all: no data for this interval
        # both queries read the same lines, but a line may arrive between the two queries
        yield RatioSample(ts, cohort, spec.name, total, min(failed.get(ts, 0.0), total))
