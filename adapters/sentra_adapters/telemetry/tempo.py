"""Tempo trace links: example traces of a cohort's failed or slow requests, for a verdict's reasons.

One TraceQL search (``GET /api/search?q=...&start=&end=&limit=``) per question: the cohort's
condition (``resource.service.version = "v2"``), a span filter (server spans by default) and
``status = error`` (a regressed error ratio) or ``duration > Nms`` (a regressed latency), e.g.
``{ resource.service.version = "v2" && kind = server && status = error }``. Finding no trace is
an empty list, not an error. Errors: no answer, 429 and 5xx Unavailable; 400 (TraceQL Tempo
does not parse) Rejected; 401/403/404 Misconfigured; an answer not in Tempo's JSON BadResponse.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import httpx

from sentra_adapters.errors import BadResponse, Misconfigured
from sentra_adapters.http import get, raise_for_status
from sentra_adapters.options import cohort_names
from sentra_ml.analysis.types.labels import Cohort, MetricKind


@dataclass(frozen=True)
class TraceLink:
    """One example trace: its id, where to open it, and what Tempo reports of its root."""

    trace_id: str
    url: str
    root_service: str
    root_name: str
    start: float  # Unix seconds
    duration_ms: float

    def __str__(self) -> str:
        return f"trace {self.trace_id} ({self.root_name}, {self.duration_ms:g} ms): {self.url}"


class TempoTraces:
    """Searches Tempo at `url` for example traces of a cohort.

    `cohorts` maps each cohort to a TraceQL condition; `span_filter` narrows the spans searched
    ("" for any); `link` makes each trace's URL from ``{url}`` and ``{trace_id}`` (e.g. a
    Grafana Explore URL). `tenant` is sent as ``X-Scope-OrgID``. A `client` may be injected.
    """

    kind: ClassVar[str] = "tempo"

    @classmethod
    def from_config(cls, config: Mapping[str, Any], timeout: float = 5.0) -> TempoTraces:
        """The search of a rollout's `traces` config; raises Misconfigured."""
        return cls(
            url=config["url"],
            cohorts=config["cohorts"],
            span_filter=config.get("span_filter", "kind = server"),
            link=config.get("link", "{url}/api/traces/{trace_id}"),
            tenant=config.get("tenant"),
            timeout=timeout,
        )

    def __init__(
        self,
        *,
        url: str,
        cohorts: Mapping[str, str],
        span_filter: str = "kind = server",
        link: str = "{url}/api/traces/{trace_id}",
        tenant: str | None = None,
        timeout: float = 5.0,
        client: httpx.Client | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        self.cohorts = cohort_names(self.kind, cohorts, "cohorts")
        if any(not c.strip() or "{" in c or "}" in c for c in self.cohorts.values()):
            raise Misconfigured(self.kind, "cohorts: need one TraceQL condition each, no braces")
        try:
            link.format(url=self.url, trace_id="0")
        except (KeyError, IndexError, ValueError) as e:
            raise Misconfigured(self.kind, f"link: only {{url}} and {{trace_id}}: {e}") from e
        self.span_filter = span_filter
        self.link = link
        self.tenant = tenant
        self.timeout = timeout
        self.client = client or httpx.Client(timeout=timeout)

    def for_metric(
        self,
        kind: MetricKind,
        cohort: Cohort,
        start: float,
        end: float,
        *,
        threshold_ms: float | None = None,
        limit: int = 5,
    ) -> list[TraceLink]:
        """Examples for a regressed metric of `kind`: failed requests for a ratio, requests
        slower than `threshold_ms` for a latency. A gauge has no requests to show."""
        if kind is MetricKind.RATIO:
            return self.failed(cohort, start, end, limit=limit)
        if kind is MetricKind.LATENCY:
            if threshold_ms is None:
                raise Misconfigured(self.kind, "a latency needs threshold_ms to find slow traces")
            return self.slow(cohort, start, end, threshold_ms, limit=limit)
        raise Misconfigured(self.kind, f"a {kind} metric has no request traces")

    def failed(
        self, cohort: Cohort, start: float, end: float, *, limit: int = 5
    ) -> list[TraceLink]:
        """Up to `limit` traces with a failed span of `cohort`, most recent first."""
        return self.search(cohort, ["status = error"], start, end, limit=limit)

    def slow(
        self, cohort: Cohort, start: float, end: float, threshold_ms: float, *, limit: int = 5
    ) -> list[TraceLink]:
        """Up to `limit` traces with a span of `cohort` slower than `threshold_ms`, slowest
        first."""
        if not (math.isfinite(threshold_ms) and threshold_ms >= 0):
            raise Misconfigured(self.kind, f"threshold_ms: must be >= 0, got {threshold_ms}")
        found = self.search(cohort, [f"duration > {threshold_ms:g}ms"], start, end, limit=limit)
        return sorted(found, key=lambda t: -t.duration_ms)

    def search(
        self, cohort: Cohort, conditions: Sequence[str], start: float, end: float, *, limit: int
    ) -> list[TraceLink]:
        """Traces with a span of `cohort` matching every condition, between `start` and `end`."""
        if cohort not in self.cohorts:
            raise Misconfigured(self.kind, f"unknown cohort {cohort!r}")
        if limit < 1:
            raise Misconfigured(self.kind, f"limit: must be >= 1, got {limit}")
        parts = [self.cohorts[Cohort(cohort)], self.span_filter, *conditions]
        query = "{ " + " && ".join(p for p in parts if p.strip()) + " }"
        params = {
            "q": query,
            "start": str(math.floor(start)),  # Tempo takes whole Unix seconds
            "end": str(math.ceil(end)),
            "limit": str(limit),
        }
        return [self._link(t) for t in self._get(query, params)][:limit]

    def close(self) -> None:
        """Closes the HTTP client."""
        self.client.close()

    def _get(self, query: str, params: Mapping[str, str]) -> list[Any]:
        response = get(self.kind, self.client, self.url, "/api/search", params, self.tenant)
        raise_for_status(self.kind, f"search {query!r}", response)
        try:
            traces = response.json().get("traces") or []  # Tempo omits an empty list
            if not isinstance(traces, list):
                raise TypeError(f"traces is a {type(traces).__name__}")
            return traces
        except (ValueError, AttributeError, TypeError) as e:
            raise BadResponse(self.kind, f"search {query!r}: not Tempo's JSON: {e!r}") from e

    def _link(self, trace: Any) -> TraceLink:
        try:
            trace_id = str(trace["traceID"])
            if len(trace_id) < 32 and all(c in "0123456789abcdefABCDEF" for c in trace_id):
                # search trims leading zeros (grafana/tempo#4723); logs carry all 32 digits
                trace_id = trace_id.rjust(32, "0")
            return TraceLink(
                trace_id=trace_id,
                url=self.link.format(url=self.url, trace_id=trace_id),
                root_service=str(trace.get("rootServiceName", "")),
                root_name=str(trace.get("rootTraceName", "")),
                start=int(trace.get("startTimeUnixNano", 0)) / 1e9,
                duration_ms=float(trace.get("durationMs", 0)),  # omitted when 0
            )
        except (KeyError, TypeError, ValueError, AttributeError) as e:
            raise BadResponse(self.kind, f"search: a trace Sentra cannot read: {e!r}") from e
