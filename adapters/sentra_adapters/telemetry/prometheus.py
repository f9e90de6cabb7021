"""Prometheus source: one ``query_range`` per query over the window, points as interval samples.

Errors: no answer or a 5xx is Unavailable, a refused query (400, 422) Rejected, an answer that is
not the API's JSON BadResponse; an empty result is "no data", returned as an empty window.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, ClassVar

import httpx

from sentra_adapters.errors import BadResponse
from sentra_adapters.http import get, raise_for_status
from sentra_adapters.telemetry.promql import PromMetric
from sentra_adapters.telemetry.range_query import RangeQuerySource, chunks
from sentra_ml.analysis.types.labels import Cohort, MetricKind
from sentra_ml.analysis.types.samples import GaugeSample, LatencySample, RatioSample, Sample

_Series = list[tuple[dict[str, str], dict[float, float]]]  # labels, value per timestamp


class PrometheusSource(RangeQuerySource[PromMetric, _Series]):
    """Samples of interval `step` seconds from the Prometheus HTTP API at `url`.

    `cohorts` maps each cohort to its label matchers (``version="v2"``); `metrics` are
    PromMetric objects or their spec mappings. A `client` may be injected (tests, auth).
    """

    kind: ClassVar[str] = "prometheus"

    def __init__(
        self,
        *,
        url: str,
        cohorts: Mapping[str, str],
        metrics: Sequence[PromMetric | Mapping[str, Any]],
        step: float = 10.0,
        timeout: float = 5.0,
        client: httpx.Client | None = None,
    ) -> None:
        parsed = [m if isinstance(m, PromMetric) else PromMetric.from_config(m) for m in metrics]
        super().__init__(
            url=url, cohorts=cohorts, metrics=parsed, step=step, timeout=timeout, client=client
        )

    def _range(self, query: str, first: float, last: float) -> _Series:
        merged: dict[tuple[tuple[str, str], ...], tuple[dict[str, str], dict[float, float]]] = {}
        for lo, hi in chunks(first, last, self.step):
            for labels, values in self.query_range(query, lo, hi):
                key = tuple(sorted(labels.items()))
                merged.setdefault(key, (labels, {}))[1].update(values)
        return list(merged.values())

    def _samples(
        self, spec: PromMetric, cohort: Cohort, results: Mapping[str, _Series]
    ) -> Iterable[Sample]:
        return _build_samples(spec, cohort, results)

    def query_range(self, query: str, start: float, end: float) -> _Series:
        """The matrix of one range query: labels and values per timestamp of each series."""
        params = {"query": query, "start": repr(start), "end": repr(end), "step": repr(self.step)}
        response = get(self.kind, self.client, self.url, "/api/v1/query_range", params)
        body = _json(response)
        error = body.get("error") if isinstance(body, dict) else None
        raise_for_status(self.kind, f"query {query!r}", response, error)
        if not isinstance(body, dict):
            raise BadResponse(self.kind, f"HTTP {response.status_code} from {response.url}")
        data = body.get("data")
        if body.get("status") != "success" or not isinstance(data, dict):
            raise BadResponse(self.kind, f"query {query!r}: status {body.get('status')!r}")
        if data.get("resultType") != "matrix":
            raise BadResponse(self.kind, f"query {query!r}: a {data.get('resultType')} result")
        try:
            return [
                (dict(s["metric"]), {float(t): float(v) for t, v in s["values"]})
                for s in data["result"]
            ]
        except (KeyError, TypeError, ValueError) as e:
            raise BadResponse(self.kind, f"query {query!r}: malformed matrix: {e!r}") from e


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _build_samples(
    spec: PromMetric, cohort: Cohort, results: Mapping[str, _Series]
) -> list[Sample]:
    if spec.kind is MetricKind.RATIO:
        return list(_ratios(spec.name, cohort, results["total"], results["failed"]))
    if spec.kind is MetricKind.LATENCY:
        return list(_latencies(spec, cohort, results["buckets"]))
    return [
        GaugeSample(ts, cohort, spec.name, value, labels.get(spec.instance_label, ""))
        for labels, values in results["value"]
        for ts, value in sorted(values.items())
        if math.isfinite(value)
    ]


def _ratios(name: str, cohort: Cohort, total: _Series, failed: _Series) -> Iterable[Sample]:
    totals = _merged(total)
    failures = _merged(failed)
    for ts in sorted(totals):
        # no failed series at all means no failure yet, not missing data
        bad = failures.get(ts, 0.0)
        # templates with increase() extrapolate each series on its own: failed may overshoot
        yield RatioSample(ts, cohort, name, totals[ts], min(bad, totals[ts]))


def _merged(series: _Series) -> dict[float, float]:
    merged: dict[float, float] = defaultdict(float)
    for _, values in series:
        for ts, value in values.items():
            if math.isfinite(value):
                merged[ts] += value
    return merged


def _latencies(spec: PromMetric, cohort: Cohort, series: _Series) -> Iterable[Sample]:
    per_ts: dict[float, dict[float, float]] = defaultdict(dict)
    for labels, values in series:
        le = float(labels.get("le", "nan"))  # "+Inf" parses as inf
        for ts, count in values.items():
            per_ts[ts][le * spec.scale if math.isfinite(le) else le] = count
    for ts in sorted(per_ts):
        buckets, running = [], 0.0
        for le, count in sorted(per_ts[ts].items()):
            # per-bucket extrapolation can break monotonicity by rounding; keep it cumulative
            running = max(running, count)
            buckets.append((le, running))
        if running > 0:  # an interval without requests has no distribution
            yield LatencySample(ts, cohort, spec.name, buckets=tuple(buckets))
