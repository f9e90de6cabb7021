"""OTLP metrics (OpenTelemetry, pushed over HTTP) into Sentra samples.

The mapping:
- Rollout and cohort: the attributes `sentra.rollout` (rollout id) and `sentra.cohort`
  (`baseline` | `canary`), on the resource or the data point (the data point wins).
- Metric: the OTLP metric name is the rollout's metric name.
  - ratio: a monotonic Sum (a Counter) of requests with the data point attribute
    `sentra.outcome` = `ok` | `failed`; a series' ok and failed points of one time are one sample
    (total = ok + failed).
  - latency: a Histogram with explicit bounds, taken in the metric's own unit (no conversion;
    the SDK's default bounds are millisecond-sized, so a histogram of unit `s` with them is
    refused); bucket i is counted at its upper bound, the last at +Inf.
  - gauge: a Gauge, or a non-monotonic cumulative Sum (an UpDownCounter); each
    `service.instance.id` (else each resource) is one instance.
- Temporality: delta points are the interval's counts. Cumulative points become increments per
  stream (rollout, cohort, metric, resource, scope, point attributes): a changed
  `start_time_unix_nano` or a decrease is a reset, after which the point counts whole. The first
  point of a stream gives no sample, unless the stream started at or after `since` (the rollout's
  start): then all it counts is the rollout's (the SDK starts a new attribute set, such as the
  first `failed`, at the previous collection). A point not newer than its stream's last is refused.
- Refused points are counted with their reason, never raised.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from google.protobuf import json_format
from google.protobuf.message import DecodeError
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.metrics.v1.metrics_pb2 import AggregationTemporality, Metric

from sentra_ml.analysis.types.errors import SampleError
from sentra_ml.analysis.types.labels import Cohort
from sentra_ml.analysis.types.samples import (
    MAX_MAGNITUDE,
    GaugeSample,
    LatencySample,
    RatioSample,
    Sample,
)

ROLLOUT, COHORT, OUTCOME = "sentra.rollout", "sentra.cohort", "sentra.outcome"
OUTCOMES = ("ok", "failed")
# the SDK's default explicit bounds (milliseconds by design, whatever the instrument's unit)
SDK_DEFAULT_BOUNDS = (0.0, 5, 10, 25, 50, 75, 100, 250, 500, 750, 1000, 2500, 5000, 7500, 10000)
_NO_RECORDED_VALUE = 1
_EMPTY: tuple[float, ...] = ()
_CUMULATIVE = AggregationTemporality.AGGREGATION_TEMPORALITY_CUMULATIVE


class OtlpDecodeError(ValueError):
    """The body is not an OTLP ExportMetricsServiceRequest in the stated encoding."""


class Shape(StrEnum):
    COUNTER = "counter"  # monotonic Sum
    GAUGE = "gauge"  # Gauge or non-monotonic cumulative Sum
    HISTOGRAM = "histogram"


@dataclass(frozen=True)
class Point:
    """One OTLP data point, addressed to a rollout's metric; `value` or `counts` per shape."""

    rollout: str
    cohort: Cohort
    metric: str
    shape: Shape
    cumulative: bool
    stream: str  # the stream's identity (a hash)
    series: str  # the stream without `sentra.outcome`
    instance: str
    start_ns: int
    time_ns: int
    value: float = 0.0
    counts: tuple[float, ...] = ()  # per bucket, not cumulative
    bounds: tuple[float, ...] = ()
    outcome: str = ""


Refusals = Counter[str]  # reason -> number of points


def parse_request(body: bytes, json_encoded: bool) -> ExportMetricsServiceRequest:
    """Decode a protobuf or OTLP/JSON body; raises OtlpDecodeError."""
    request = ExportMetricsServiceRequest()
    if json_encoded and not body.lstrip().startswith(b"{"):
        # json_format would iterate a string or a list as if it were an object's field names,
        # find none it knows and take it as an empty request
        raise OtlpDecodeError("body: an OTLP/JSON request is a JSON object")
    try:
        if json_encoded:
            json_format.Parse(body, request, ignore_unknown_fields=True)
        else:
            request.ParseFromString(body)
    except (DecodeError, json_format.ParseError, UnicodeDecodeError, ValueError) as err:
        kind = "OTLP/JSON" if json_encoded else "protobuf"
        raise OtlpDecodeError(f"body: not an OTLP metrics request in {kind} ({err})") from None
    return request


def points(request: ExportMetricsServiceRequest) -> tuple[list[Point], Refusals]:
    """The request's data points addressed to a rollout, and the refused ones by reason."""
    out: list[Point] = []
    refused: Refusals = Counter()
    for rm in request.resource_metrics:
        resource = _attributes(rm.resource.attributes)
        resource_text = repr(sorted(resource.items()))
        instance = str(resource.get("service.instance.id", "")) or _digest(resource_text)
        for sm in rm.scope_metrics:
            scope = f"{sm.scope.name}/{sm.scope.version}"
            for metric in sm.metrics:
                _metric_points(metric, resource, resource_text, scope, instance, out, refused)
    return out, refused


def _metric_points(
    metric: Metric, resource: dict[str, object], resource_text: str, scope: str, instance: str,
    out: list[Point], refused: Refusals,
) -> None:  # fmt: skip
    kind = metric.WhichOneof("data")
    name = metric.name
    data: Any = getattr(metric, kind) if kind else None
    if kind in ("sum", "gauge"):
        monotonic = kind == "sum" and data.is_monotonic
        cumulative = kind == "sum" and data.aggregation_temporality == _CUMULATIVE
        if kind == "sum" and not monotonic and not cumulative:
            refused[f"{name}: a delta non-monotonic Sum carries changes, not levels"] += len(
                data.data_points
            )
            return
        shape = Shape.COUNTER if monotonic else Shape.GAUGE
    elif kind == "histogram":
        shape, cumulative = Shape.HISTOGRAM, data.aggregation_temporality == _CUMULATIVE
    else:
        n = len(data.data_points) if data is not None else 1
        refused[f"{name}: {kind or 'empty'} metrics are not taken (Sum, Gauge or Histogram)"] += n
        return
    unit = metric.unit
    head = f"{name}|{unit}|{shape}|{scope}|{resource_text}"
    for dp in data.data_points:
        if dp.flags & _NO_RECORDED_VALUE:
            continue
        own = _attributes(dp.attributes)
        rollout = own.get(ROLLOUT, resource.get(ROLLOUT))
        cohort = own.get(COHORT, resource.get(COHORT))
        if not isinstance(rollout, str) or not rollout:
            refused[f"{name}: no '{ROLLOUT}' attribute"] += 1
            continue
        if cohort not in ("baseline", "canary"):
            refused[f"{name}: '{COHORT}' must be baseline or canary"] += 1
            continue
        outcome = str(own.pop(OUTCOME, resource.get(OUTCOME, "")))
        value, counts, bounds = 0.0, _EMPTY, _EMPTY
        if shape is Shape.HISTOGRAM:
            bounds = tuple(map(float, dp.explicit_bounds))
            if unit == "s" and bounds == SDK_DEFAULT_BOUNDS:
                refused[
                    f"{name}: unit 's' with the SDK's default millisecond bucket bounds; "
                    "give explicit bounds in seconds (a View or an advisory)"
                ] += 1
                continue
            counts = tuple(map(float, dp.bucket_counts))
            if len(counts) != len(bounds) + 1:
                refused[f"{name}: a histogram needs one bucket count more than bounds"] += 1
                continue
        else:
            value = dp.as_double if dp.WhichOneof("value") == "as_double" else float(dp.as_int)
            if not (math.isfinite(value) and abs(value) <= MAX_MAGNITUDE):
                refused[f"{name}: value is not finite, or beyond {MAX_MAGNITUDE:g}"] += 1
                continue
        series = _digest(head + repr(sorted(own.items())))
        out.append(
            Point(
                rollout=rollout,
                cohort=Cohort(cohort),
                metric=name,
                shape=shape,
                cumulative=cumulative or shape is Shape.GAUGE,
                stream=f"{series}/{outcome}",
                series=series,
                instance=instance,
                start_ns=dp.start_time_unix_nano,
                time_ns=dp.time_unix_nano,
                value=value,
                counts=counts,
                bounds=bounds,
                outcome=outcome,
            )
        )


def _attributes(kvs: Sequence[KeyValue]) -> dict[str, object]:
    return {kv.key: _value(kv.value) for kv in kvs}


def _value(v: AnyValue) -> object:
    kind = v.WhichOneof("value")
    if kind in ("array_value", "kvlist_value", "bytes_value"):
        return json_format.MessageToJson(v, indent=None)
    return getattr(v, kind) if kind else None


def _digest(text: str) -> str:
    return hashlib.blake2b(text.encode(), digest_size=12).hexdigest()


def mismatch(point: Point, kind: str) -> str | None:
    """Why `point` cannot feed a metric of `kind` (ratio | latency | gauge), or None."""
    if kind == "ratio":
        if point.shape is not Shape.COUNTER:
            return f"{point.metric}: a ratio metric takes a monotonic Sum, got a {point.shape}"
        if point.outcome not in OUTCOMES:
            return f"{point.metric}: '{OUTCOME}' must be ok or failed"
        return None
    want = Shape.HISTOGRAM if kind == "latency" else Shape.GAUGE
    if point.shape is not want:
        return f"{point.metric}: a {kind} metric takes a {want}, got a {point.shape}"
    return None


# Exchanges (field, order, state) for each stream's previous (order, state), atomically.
Swap = Callable[[list[tuple[str, str, str]]], list[tuple[str, str] | None]]


def increments(points: Sequence[Point], swap: Swap, since_ns: int) -> tuple[list[Point], Refusals]:
    """Delta points as they are; cumulative counters and histograms as increments over their
    stream's previous point, which `swap` keeps (on the bus, so that every replica sees it)."""
    out = [p for p in points if not p.cumulative or p.shape is Shape.GAUGE]
    stateful = [p for p in points if p.cumulative and p.shape is not Shape.GAUGE]
    refused: Refusals = Counter()
    if not stateful:
        return out, refused
    entries = [(p.stream, f"{p.time_ns:020d}", _state(p)) for p in stateful]
    last: dict[str, tuple[str, str]] = {}
    for p, (_, order, state), before in zip(stateful, entries, swap(entries), strict=True):
        before = last.get(p.stream, before)  # a stream's earlier point in this same request
        if before is not None and before[0] >= order:
            refused[f"{p.metric}: a point not newer than its stream's last (a retry?)"] += 1
            continue
        last[p.stream] = (order, state)
        step = _increment(p, None if before is None else json.loads(before[1]), since_ns)
        if step is not None:
            out.append(step)
    return out, refused


def _state(p: Point) -> str:
    return json.dumps({"s": p.start_ns, "v": p.value, "c": p.counts})


def _increment(p: Point, before: dict[str, object] | None, since_ns: int) -> Point | None:
    if before is None:  # the first point: whole if the stream began within the rollout
        return p if p.start_ns and p.start_ns >= since_ns else None
    restarted = bool(p.start_ns) and p.start_ns != before["s"]
    if p.shape is Shape.HISTOGRAM:
        old: tuple[float, ...] = tuple(before["c"])  # type: ignore[arg-type]
        if restarted or len(old) != len(p.counts) or any(map(float.__lt__, p.counts, old)):
            return p
        return replace(p, counts=tuple(c - o for c, o in zip(p.counts, old, strict=True)))
    old_value = float(before["v"])  # type: ignore[arg-type]
    if restarted or p.value < old_value:
        return p
    return replace(p, value=p.value - old_value)


def samples(points: Sequence[Point]) -> tuple[list[tuple[Sample, int]], Refusals]:
    """Samples with the number of points behind each; a series' ok and failed points of one
    time make one ratio sample."""
    out: list[tuple[Sample, int]] = []
    refused: Refusals = Counter()
    ratios: dict[tuple[Cohort, str, str, int], list[float]] = {}
    for p in points:
        ts = p.time_ns / 1e9
        if p.shape is Shape.COUNTER:
            acc = ratios.setdefault((p.cohort, p.metric, p.series, p.time_ns), [0.0, 0.0, 0])
            acc[0] += p.value
            acc[1] += p.value if p.outcome == "failed" else 0.0
            acc[2] += 1
        elif p.shape is Shape.HISTOGRAM:
            running, buckets = 0.0, []
            for le, c in zip((*p.bounds, math.inf), p.counts, strict=True):
                running += c
                buckets.append((le, running))
            try:
                out.append((LatencySample(ts, p.cohort, p.metric, buckets=tuple(buckets)), 1))
            except SampleError as err:
                refused[f"{p.metric}: {err}"] += 1
        else:
            out.append((GaugeSample(ts, p.cohort, p.metric, p.value, p.instance), 1))
    for (cohort, metric, _, time_ns), (total, failed, n) in ratios.items():
        try:  # the ok and failed points together may pass the bound each keeps
            out.append((RatioSample(time_ns / 1e9, cohort, metric, total, failed), int(n)))
        except SampleError as err:
            refused[f"{metric}: {err}"] += int(n)
    return out, refused
