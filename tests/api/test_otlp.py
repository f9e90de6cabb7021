"""OTLP/HTTP metrics push: the real OpenTelemetry SDK exporter (protobuf, gzip) against the
service under uvicorn, on both backends; JSON bodies, errors and partial success."""

from __future__ import annotations

import gzip
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from api_helpers import Api, settings_for, start  # type: ignore[import-not-found]
from fastapi.testclient import TestClient
from google.protobuf import json_format
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
    ExportMetricsServiceResponse,
)
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource

from sentra_ml.api.app import create_app
from sentra_ml.settings import Settings
from sentra_ml.spec import TelemetryLine
from sentra_ml.store import telemetry_log
from sentra_ml.store.tokens import Role
from tests.adapters.adapter_servers import free_port

URL = "/v1/otlp/v1/metrics"
BOUNDS = [10.0, 20.0, 50.0, 100.0]


@pytest.fixture
def base_url(api: Api) -> Iterator[str]:
    """The same app served by uvicorn on 127.0.0.1 (its lifespan is the TestClient's)."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(api.app, host="127.0.0.1", port=port, lifespan="off", log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(5)


class Service:
    """One process of the instrumented service, exporting with the real OTLP/HTTP exporter."""

    def __init__(self, base_url: str, token: str, rollout: str, cohort: str, instance: str):
        exporter = OTLPMetricExporter(
            endpoint=f"{base_url}{URL}",
            headers={"Authorization": f"Bearer {token}"},
            compression=Compression.Gzip,
        )
        self.reader = PeriodicExportingMetricReader(exporter, export_interval_millis=3_600_000)
        resource = Resource.create(
            {"sentra.rollout": rollout, "sentra.cohort": cohort, "service.instance.id": instance}
        )
        self.provider = MeterProvider([self.reader], resource=resource)
        meter = self.provider.get_meter("checkout")
        self.errors = meter.create_counter("errors")
        self.latency = meter.create_histogram(
            "latency_ms", unit="ms", explicit_bucket_boundaries_advisory=BOUNDS
        )

    def serve(self, ok: int, failed: int, latencies: list[float]) -> None:
        self.errors.add(ok, {"sentra.outcome": "ok"})
        if failed:
            self.errors.add(failed, {"sentra.outcome": "failed"})
        for v in latencies:
            self.latency.record(v)

    def flush(self) -> None:
        assert self.provider.force_flush(10_000)

    def stop(self) -> None:
        self.provider.shutdown()


def logged(api: Api, rollout_id: str) -> list[TelemetryLine]:
    read = telemetry_log.read(api.app.state.services.bus, rollout_id, None, 0)
    return [line for batch in read.entries for line in batch]


def buckets(values: list[float]) -> dict[str, float]:
    out = {repr(b): float(sum(v <= b for v in values)) for b in BOUNDS}
    return {**out, "+Inf": float(len(values))}


def test_a_rollout_fed_by_the_sdk_gets_the_verdict_of_the_same_json_lines(
    api: Api, base_url: str
) -> None:
    by_otlp = api.create(service="otlp")["id"]
    by_json = api.create(service="json")["id"]
    token = api.secrets[Role.OPERATOR]
    sdks = {c: Service(base_url, token, by_otlp, c, f"{c}-0") for c in ("baseline", "canary")}
    verdicts = []
    try:
        for k in range(25):
            for cohort, sdk in sdks.items():
                failed = 12 if cohort == "canary" else 1
                values = [5.0 + (i * 7 + k) % 60 for i in range(30)]
                sdk.serve(200 - failed, failed, values)
                sdk.flush()
                ts = logged(api, by_otlp)[-1].ts
                same = [  # one exporter's request is one batch, as the JSON client's would be
                    {
                        "ts": ts,
                        "cohort": cohort,
                        "metric": "errors",
                        "total": 200,
                        "failed": failed,
                    },
                    {
                        "ts": ts,
                        "cohort": cohort,
                        "metric": "latency_ms",
                        "buckets": buckets(values),
                    },
                ]
                pushed = api.post(f"/v1/rollouts/{by_json}/telemetry", json={"lines": same})
                assert pushed.status_code == 202, pushed.text
            now = time.time()
            api.judge(now)
            a = api.get(f"/v1/rollouts/{by_otlp}/verdict").json()["verdict"]
            b = api.get(f"/v1/rollouts/{by_json}/verdict").json()["verdict"]
            verdicts.append((a, b))
            if a["action"] == "rollback":
                break
    finally:
        for sdk in sdks.values():
            sdk.stop()
    key = lambda line: (line.ts, line.cohort, line.metric)  # noqa: E731
    assert sorted(logged(api, by_otlp), key=key) == sorted(logged(api, by_json), key=key)
    for a, b in verdicts:
        assert {**a, "rollout_id": None} == {**b, "rollout_id": None}
    assert verdicts[-1][0]["action"] == "rollback"


def test_a_restarted_process_is_a_counter_reset(api: Api, base_url: str) -> None:
    rollout = api.create()["id"]
    token = api.secrets[Role.OPERATOR]
    first = Service(base_url, token, rollout, "canary", "pod-a")
    first.serve(100, 2, [])
    first.flush()
    first.serve(50, 1, [])
    first.flush()
    first.stop()
    again = Service(base_url, token, rollout, "canary", "pod-a")  # same instance, new start
    again.serve(300, 3, [])
    again.flush()
    again.stop()
    lines = logged(api, rollout)
    ratios = [(x.total, x.failed) for x in lines if x.metric == "errors" and x.total]
    assert ratios == [(102.0, 2.0), (51.0, 1.0), (303.0, 3.0)]


def test_json_bodies_gzip_and_a_json_answer(api: Api) -> None:
    rollout = api.create()["id"]
    start = time.time_ns()
    now = start + 10**6
    body = _json_body(rollout, now, [("ok", 40), ("failed", 2)], start)
    response = api.post(
        URL,
        content=gzip.compress(json.dumps(body).encode()),
        headers={"Content-Type": "application/json", "Content-Encoding": "gzip"},
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {}
    [line] = logged(api, rollout)
    assert (line.total, line.failed, line.ts) == (42.0, 2.0, now / 1e9)


def test_refused_points_are_named_in_partial_success(api: Api) -> None:
    rollout = api.create()["id"]
    start = time.time_ns()
    now = start + 10**6
    body = _json_body(rollout, now, [("ok", 40), ("maybe", 1)], start)
    unknown = _json_body("no-such-rollout", now, [("ok", 1)])
    nameless = _json_body("", now, [("ok", 1)])
    body["resourceMetrics"] += unknown["resourceMetrics"] + nameless["resourceMetrics"]
    request = json_format.ParseDict(body, ExportMetricsServiceRequest())
    response = api.post(
        URL,
        content=request.SerializeToString(),
        headers={"Content-Type": "application/x-protobuf"},
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/x-protobuf"
    answer = ExportMetricsServiceResponse.FromString(response.content)
    assert answer.partial_success.rejected_data_points == 3
    message = answer.partial_success.error_message
    assert "'sentra.outcome' must be ok or failed" in message
    assert "no rollout 'no-such-rollout'" in message
    assert "no 'sentra.rollout' attribute" in message
    [line] = logged(api, rollout)
    assert (line.total, line.failed) == (40.0, 0.0)


def test_bad_bodies_and_types(api: Api) -> None:
    proto = {"Content-Type": "application/x-protobuf"}
    assert api.post(URL, content=b"\xff\xfe\x00", headers=proto).status_code == 400
    bad_json = api.post(URL, content=b"{", headers={"Content-Type": "application/json"})
    assert bad_json.status_code == 400 and "body:" in bad_json.json()["message"]
    for not_an_object in (b'"AAA"', b"[1, 2]", b"3"):  # found by schemathesis: taken as empty
        answer = api.post(URL, content=not_an_object, headers={"Content-Type": "application/json"})
        assert answer.status_code == 400 and "JSON object" in answer.json()["message"]
    bad_gzip = api.post(URL, content=b"nope", headers={**proto, "Content-Encoding": "gzip"})
    assert bad_gzip.status_code == 400
    assert api.post(URL, content=b"x", headers={"Content-Type": "text/plain"}).status_code == 415
    brotli = api.post(URL, content=b"", headers={**proto, "Content-Encoding": "br"})
    assert brotli.status_code == 415
    limit = api.app.state.services.settings.max_body_bytes
    bomb = gzip.compress(b"\0" * (limit + 1))
    assert (
        api.post(URL, content=bomb, headers={**proto, "Content-Encoding": "gzip"}).status_code
        == 413
    )
    assert api.post(URL, content=b"\0" * (limit + 1), headers=proto).status_code == 413
    assert api.post(URL, role=None, content=b"", headers=proto).status_code == 401
    assert api.post(URL, role=Role.VIEWER, content=b"", headers=proto).status_code == 403


@pytest.mark.mysql
@pytest.mark.redis
def test_replicas_share_each_streams_last_point(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    settings = settings_for("mariadb+redis", tmp_path, request)
    for api in start(settings):
        _two_replicas_take_turns(api, settings)


def _two_replicas_take_turns(api: Api, settings: Settings) -> None:
    rollout = api.create()["id"]
    other = create_app(settings)
    with TestClient(other) as second:
        start = time.time_ns() - 10**9
        for k, client in enumerate([api.client, second, api.client, second]):
            body = _json_body(rollout, start + k * 10**8, [("ok", 100 * (k + 1))], start=1)
            headers = {"Content-Type": "application/json", **api.headers(Role.OPERATOR)}
            assert client.post(URL, json=body, headers=headers).status_code == 200
    assert [line.total for line in logged(api, rollout)] == [100.0, 100.0, 100.0]


def _json_body(
    rollout: str, time_ns: int, outcomes: list[tuple[str, int]], start: int | None = None
) -> dict[str, Any]:
    """OTLP/JSON: one cumulative Counter 'errors' of the canary, a point per outcome."""
    resource = [{"key": "sentra.cohort", "value": {"stringValue": "canary"}}]
    if rollout:
        resource.append({"key": "sentra.rollout", "value": {"stringValue": rollout}})
    points = [
        {
            "startTimeUnixNano": str(start if start is not None else time_ns - 10**9),
            "timeUnixNano": str(time_ns),
            "asInt": str(n),
            "attributes": [{"key": "sentra.outcome", "value": {"stringValue": outcome}}],
            "exemplars": [
                {"spanId": "5b8efff798038103", "traceId": "7bba9f33312b3dbb8b2c2c62bb7abe2d"}
            ],
        }
        for outcome, n in outcomes
    ]
    metric = {
        "name": "errors",
        "sum": {"isMonotonic": True, "aggregationTemporality": 2, "dataPoints": points},
    }
    return {
        "resourceMetrics": [
            {"resource": {"attributes": resource}, "scopeMetrics": [{"metrics": [metric]}]}
        ]
    }
