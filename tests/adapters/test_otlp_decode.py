"""OTLP metrics into samples: requests made by the real OpenTelemetry SDK, decoded and turned
into per-interval increments."""

from __future__ import annotations

import math

import pytest
from google.protobuf import json_format
from opentelemetry.exporter.otlp.proto.common.metrics_encoder import encode_metrics
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.resources import Resource
from sentra_adapters.telemetry import otlp

from sentra_ml.analysis.types.labels import Cohort
from sentra_ml.analysis.types.samples import GaugeSample, LatencySample, RatioSample

BOUNDS = [10.0, 50.0, 250.0]


class Sdk:
    """One process of the instrumented service: its meter, instruments and reader."""

    def __init__(self, cohort: str = "canary", rollout: str = "r1", instance: str = "pod-a"):
        self.reader = InMemoryMetricReader()
        attrs = {
            "sentra.rollout": rollout,
            "sentra.cohort": cohort,
            "service.instance.id": instance,
        }
        self.provider = MeterProvider([self.reader], resource=Resource.create(attrs))
        meter = self.provider.get_meter("test")
        self.errors = meter.create_counter("errors")
        self.latency = meter.create_histogram(
            "latency_ms", unit="ms", explicit_bucket_boundaries_advisory=BOUNDS
        )
        self.cpu = meter.create_gauge("cpu")

    def requests(self, ok: int, failed: int) -> None:
        if ok:
            self.errors.add(ok, {"sentra.outcome": "ok"})
        if failed:
            self.errors.add(failed, {"sentra.outcome": "failed"})

    def collect(self) -> ExportMetricsServiceRequest:
        data = self.reader.get_metrics_data()
        assert data is not None
        return encode_metrics(data)


class Streams:
    """An in-memory stand-in for the bus's `put_newer`."""

    def __init__(self) -> None:
        self.table: dict[str, tuple[str, str]] = {}

    def __call__(self, entries: list[tuple[str, str, str]]) -> list[tuple[str, str] | None]:
        out = []
        for name, order, value in entries:
            out.append(self.table.get(name))
            if out[-1] is None or self.table[name][0] < order:
                self.table[name] = (order, value)
        return out


def convert(request: ExportMetricsServiceRequest, streams: Streams, since_ns: int = 0) -> list:
    points, refused = otlp.points(request)
    assert not refused, refused
    steps, stale = otlp.increments(points, streams, since_ns)
    assert not stale, stale
    made, bad = otlp.samples(steps)
    assert not bad
    return sorted((s for s, _ in made), key=lambda s: (s.metric, s.cohort))


def test_cumulative_counters_become_increments_and_the_first_point_gives_none() -> None:
    sdk, streams = Sdk(), Streams()
    sdk.requests(ok=90, failed=10)
    far_future = 2**62
    assert convert(sdk.collect(), streams, since_ns=far_future) == []
    sdk.requests(ok=45, failed=5)
    [ratio] = [s for s in convert(sdk.collect(), streams, far_future) if s.metric == "errors"]
    assert isinstance(ratio, RatioSample)
    assert (ratio.cohort, ratio.total, ratio.failed) == (Cohort.CANARY, 50.0, 5.0)


def test_a_stream_that_began_within_the_rollout_counts_whole() -> None:
    sdk, streams = Sdk(), Streams()
    sdk.requests(ok=30, failed=0)
    [first] = convert(sdk.collect(), streams)
    assert (first.total, first.failed) == (30.0, 0.0)
    sdk.requests(ok=10, failed=2)  # the failed series appears only now
    [ratio] = convert(sdk.collect(), streams)
    assert (ratio.total, ratio.failed) == (12.0, 2.0)


def test_a_restart_is_a_reset_even_when_the_counter_grew() -> None:
    streams = Streams()
    before = Sdk()
    before.requests(ok=10, failed=0)
    convert(before.collect(), streams)
    before.requests(ok=5, failed=0)
    convert(before.collect(), streams)
    after = Sdk()  # the same instance, restarted: a new start time
    after.requests(ok=40, failed=4)
    [ratio] = convert(after.collect(), streams)
    assert (ratio.total, ratio.failed) == (44.0, 4.0)


def test_a_decrease_is_a_reset() -> None:
    request = _sum_request([(1, 100, 80.0), (1, 200, 90.0), (1, 300, 7.0)])
    points, _ = otlp.points(request)
    steps, _ = otlp.increments(points, Streams(), since_ns=10**12)
    assert [p.value for p in steps] == [10.0, 7.0]


def test_a_point_not_newer_than_its_stream_is_refused() -> None:
    streams = Streams()
    request = _sum_request([(1, 100, 80.0), (1, 200, 90.0)])
    points, _ = otlp.points(request)
    otlp.increments(points, streams, 10**12)
    steps, stale = otlp.increments(points[1:], streams, 10**12)  # a retry
    assert steps == [] and sum(stale.values()) == 1


def test_delta_temporality_passes_through() -> None:
    request = _sum_request([(100, 200, 5.0), (200, 300, 6.0)], delta=True)
    points, _ = otlp.points(request)
    steps, _ = otlp.increments(points, Streams(), 10**12)
    assert [p.value for p in steps] == [5.0, 6.0]


def test_histograms_become_cumulative_buckets_of_the_interval() -> None:
    sdk, streams = Sdk(), Streams()
    for v in (5.0, 20.0, 20.0, 400.0):
        sdk.latency.record(v)
    [first] = convert(sdk.collect(), streams)
    assert isinstance(first, LatencySample)
    assert first.buckets == ((10.0, 1.0), (50.0, 3.0), (250.0, 3.0), (math.inf, 4.0))
    sdk.latency.record(100.0)
    [second] = convert(sdk.collect(), streams)
    assert second.buckets == ((10.0, 0.0), (50.0, 0.0), (250.0, 1.0), (math.inf, 1.0))


def test_gauges_are_readings_per_instance() -> None:
    sdk = Sdk(cohort="baseline", instance="pod-b")
    sdk.cpu.set(0.42)
    [gauge] = convert(sdk.collect(), Streams())
    assert gauge == GaugeSample(gauge.ts, Cohort.BASELINE, "cpu", 0.42, "pod-b")


def test_values_beyond_the_samples_bound_are_refused_not_raised() -> None:
    sdk = Sdk()
    sdk.cpu.set(1e300)
    points, refused = otlp.points(sdk.collect())
    assert points == [] and list(refused) == ["cpu: value is not finite, or beyond 1e+100"]
    sdk = Sdk()
    for outcome in ("ok", "failed"):  # each within the bound, not their sum
        sdk.errors.add(9e99, {"sentra.outcome": outcome})
    steps, _ = otlp.increments(otlp.points(sdk.collect())[0], Streams(), 0)
    made, bad = otlp.samples(steps)
    assert made == [] and "errors: total: must be at most 1e+100" in next(iter(bad))


def test_seconds_with_the_default_millisecond_buckets_are_refused() -> None:
    reader = InMemoryMetricReader()
    resource = Resource.create({"sentra.rollout": "r1", "sentra.cohort": "canary"})
    meter = MeterProvider([reader], resource=resource).get_meter("t")
    meter.create_histogram("latency_s", unit="s").record(0.2)
    data = reader.get_metrics_data()
    assert data is not None
    points, refused = otlp.points(encode_metrics(data))
    assert points == [] and "default millisecond bucket bounds" in next(iter(refused))


def test_points_without_rollout_or_cohort_are_refused_with_the_reason() -> None:
    request = _sum_request([(1, 100, 1.0)], attributes={"sentra.cohort": "canary"})
    request2 = _sum_request(
        [(1, 100, 1.0)], attributes={"sentra.rollout": "r", "sentra.cohort": "x"}
    )
    _, refused = otlp.points(request)
    _, refused2 = otlp.points(request2)
    assert list(refused) == ["errors: no 'sentra.rollout' attribute"]
    assert list(refused2) == ["errors: 'sentra.cohort' must be baseline or canary"]


def test_json_encoding_decodes_like_protobuf() -> None:
    sdk = Sdk()
    sdk.requests(ok=3, failed=1)
    sdk.latency.record(12.0)
    request = sdk.collect()
    text = json_format.MessageToJson(request).encode()  # camelCase, int64 as strings
    assert b'"timeUnixNano": "' in text
    by_json = otlp.parse_request(text, json_encoded=True)
    by_proto = otlp.parse_request(request.SerializeToString(), json_encoded=False)
    assert otlp.points(by_json) == otlp.points(by_proto)


def test_an_undecodable_body_raises_a_typed_error() -> None:
    with pytest.raises(otlp.OtlpDecodeError):
        otlp.parse_request(b"\xff\xff\xff", json_encoded=False)
    with pytest.raises(otlp.OtlpDecodeError):
        otlp.parse_request(b"{not json", json_encoded=True)


def test_kinds_must_match_the_rollout_metric() -> None:
    sdk = Sdk()
    sdk.requests(ok=1, failed=0)
    sdk.cpu.set(1.0)
    points, _ = otlp.points(sdk.collect())
    counter = next(p for p in points if p.metric == "errors")
    gauge = next(p for p in points if p.metric == "cpu")
    assert otlp.mismatch(counter, "ratio") is None
    assert otlp.mismatch(gauge, "gauge") is None
    assert "takes a histogram" in (otlp.mismatch(counter, "latency") or "")


def _sum_request(
    readings: list[tuple[int, int, float]],
    delta: bool = False,
    attributes: dict[str, str] | None = None,
) -> ExportMetricsServiceRequest:
    """One monotonic Sum 'errors' (outcome ok) with points (start_ns, time_ns, value)."""
    attrs = attributes or {"sentra.rollout": "r1", "sentra.cohort": "canary"}
    points = [
        {
            "startTimeUnixNano": str(s),
            "timeUnixNano": str(t),
            "asDouble": v,
            "attributes": [{"key": "sentra.outcome", "value": {"stringValue": "ok"}}],
        }
        for s, t, v in readings
    ]
    body = {
        "resourceMetrics": [
            {
                "resource": {
                    "attributes": [
                        {"key": k, "value": {"stringValue": v}} for k, v in attrs.items()
                    ]
                },
                "scopeMetrics": [
                    {
                        "metrics": [
                            {
                                "name": "errors",
                                "sum": {
                                    "isMonotonic": True,
                                    "aggregationTemporality": 1 if delta else 2,
                                    "dataPoints": points,
                                },
                            }
                        ]
                    }
                ],
            }
        ]
    }
    return json_format.ParseDict(body, ExportMetricsServiceRequest())
