"""Trace links: a rollout with a `traces` config gets example traces of its regressed metrics
from a local server following Tempo's search API, in its verdict, audit trail and stream."""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from typing import Any

import pytest
from api_helpers import METRICS, Api, detail_text, lines  # type: ignore[import-not-found]
from sentra_controller.traces import Found, TraceLinker, attach

from sentra_ml.spec import parse_spec
from sentra_ml.store.tokens import Role
from tests.adapters.adapter_servers import free_port
from tests.adapters.fake_loki_tempo import FakeLokiTempo, Span, Trace, running_loki_tempo

COHORTS = {
    "baseline": 'resource.service.version = "v1"',
    "canary": 'resource.service.version = "v2"',
}


@pytest.fixture
def tempo() -> Iterator[FakeLokiTempo]:
    with running_loki_tempo() as fake:
        yield fake


def _span(version: str, ms: float, status: str = "ok") -> Span:
    return Span({"resource.service.version": version}, ms, status)


def _config(url: str, **more: Any) -> dict[str, Any]:
    return {"kind": "tempo", "url": url, "cohorts": COHORTS, **more}


def _traces_events(api: Api, rid: str, want: int = 1) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        events = api.get(f"/v1/rollouts/{rid}/events").json()["items"]
        found = [e for e in events if e["kind"] == "traces"]
        if len(found) >= want:
            return found
        time.sleep(0.05)
    raise AssertionError("no traces event within 15 s")


@pytest.mark.timeout(60)
def test_a_rolled_back_canary_names_example_failed_requests(api: Api, tempo: FakeLokiTempo) -> None:
    rollout = api.create(traces=_config(tempo.url, link="https://grafana/explore?trace={trace_id}"))
    rid, t0 = rollout["id"], rollout["created_at"]
    now = time.time()
    tempo.traces = [
        Trace("a" * 32, now, 120, [_span("v2", 120, "error")]),
        Trace("b" * 32, now, 80, [_span("v1", 80, "error")]),  # the baseline's
        Trace("c" * 32, now, 60, [_span("v2", 60)]),  # the canary's, not failed
        Trace("d" * 32, t0 - 60, 60, [_span("v2", 60, "error")]),  # before the rollout
    ]
    api.post(f"/v1/rollouts/{rid}/telemetry", json={"lines": lines(now - 30, 15, 9)})
    api.judge(now)
    [event] = _traces_events(api, rid)
    assert event["actor"] == "tempo" and event["payload"]["metric"] == "errors"
    assert [link["trace_id"] for link in event["payload"]["links"]] == ["a" * 32]
    assert event["reason"] == "errors: failed canary requests: https://grafana/explore?trace=" + (
        "a" * 32
    )
    [search] = tempo.received
    assert search["q"] == '{ resource.service.version = "v2" && kind = server && status = error }'
    assert (search["start"], search["end"]) == (str(math.floor(t0)), str(math.ceil(now)))
    body = api.get(f"/v1/rollouts/{rid}/verdict").json()
    assert body["state"] == "rolled_back"  # over before the search ended, yet it shows there
    assert body["verdict"]["traces"]["errors"]["links"][0]["trace_id"] == "a" * 32
    assert event["reason"] in body["verdict"]["reasons"]


@pytest.mark.timeout(60)
def test_a_tempo_that_cannot_answer_is_said_in_the_audit(api: Api) -> None:
    rid = api.create(traces=_config(f"http://127.0.0.1:{free_port()}"))["id"]
    now = time.time()
    api.post(f"/v1/rollouts/{rid}/telemetry", json={"lines": lines(now - 30, 15, 9)})
    api.judge(now)
    [event] = _traces_events(api, rid)
    assert event["reason"].startswith("errors: no example traces (tempo: http://127.0.0.1:")
    assert event["payload"]["links"] == [] and "ConnectError" in event["payload"]["error"]


def test_a_rollout_without_regressions_asks_tempo_nothing(api: Api, tempo: FakeLokiTempo) -> None:
    rid = api.create(traces=_config(tempo.url))["id"]
    now = time.time()
    api.post(f"/v1/rollouts/{rid}/telemetry", json={"lines": lines(now - 30, 15, 1)})
    api.judge(now)
    time.sleep(0.2)
    assert tempo.received == []
    assert api.get(f"/v1/rollouts/{rid}/verdict").json()["verdict"]["traces"] == {}


@pytest.mark.parametrize(
    ("traces", "field"),
    [
        ({"kind": "jaeger", "url": "http://t", "cohorts": COHORTS}, "kind"),
        ({"kind": "tempo", "url": "t:3200", "cohorts": COHORTS}, "url"),
        ({"kind": "tempo", "url": "http://t", "cohorts": {"canary": "x"}}, "traces: tempo"),
        ({"kind": "tempo", "url": "http://t", "cohorts": {**COHORTS, "canary": "{ x }"}},
         "traces: tempo"),
        (_config("http://t", slow_ms={"errors": 100}), "traces.slow_ms.errors"),
        (_config("http://t", slow_ms={"latency_ms": -1}), "traces.slow_ms.latency_ms"),
        (_config("http://t", link="{url}/{span_id}"), "traces: tempo: link"),
    ],
)  # fmt: skip
def test_a_bad_traces_config_is_a_422_naming_the_field(
    api: Api, traces: dict[str, Any], field: str
) -> None:
    body = {"service": "s", "baseline_version": "v1", "canary_version": "v2", "metrics": METRICS}
    response = api.post("/v1/rollouts", json={**body, "traces": traces}, role=Role.OPERATOR)
    assert response.status_code == 422, response.text
    assert field in detail_text(response)


def _verdict(status: dict[str, str]) -> dict[str, Any]:
    evidence = [{"metric": m, "status": s} for m, s in status.items()]
    return {"ts": 2000.0, "reasons": ["rollback"], "evidence": evidence}


def test_each_metric_is_searched_once_by_its_kind(tempo: FakeLokiTempo) -> None:
    metrics = [*METRICS, {"name": "cpu", "kind": "gauge", "tolerance": 0.2}]
    spec = parse_spec({"service": "s", "metrics": metrics})
    tempo.traces = [Trace("d" * 32, 1500.0, 900, [_span("v2", 900)])]
    reported: list[Found] = []
    linker = TraceLinker(lambda rid, found: reported.append(found))
    config = _config(tempo.url, slow_ms={"latency_ms": 250})
    everything = {"errors": "regression", "latency_ms": "regression", "cpu": "regression"}
    for _ in range(3):  # the same regression at every evaluation: one search each
        linker.ask("r1", config, spec, _verdict(everything), since=1000.0)
    deadline = time.monotonic() + 10
    while len(reported) < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    linker.close()
    queries = sorted(r["q"] for r in tempo.received)
    assert queries == [
        '{ resource.service.version = "v2" && kind = server && duration > 250ms }',
        '{ resource.service.version = "v2" && kind = server && status = error }',
    ]  # and none for the gauge
    by_metric = {f.metric: f for f in reported}
    assert [link.trace_id for link in by_metric["latency_ms"].links] == ["d" * 32]
    assert by_metric["errors"].reason() == (
        "errors: Tempo holds no failed canary requests of this rollout"
    )
    verdict = _verdict(everything)
    assert attach(verdict, linker.found("r1")) and not attach(verdict, linker.found("r1"))
    assert len(verdict["reasons"]) == 3 and set(verdict["traces"]) == {"errors", "latency_ms"}


def test_a_latency_without_a_threshold_is_not_searched(tempo: FakeLokiTempo) -> None:
    spec = parse_spec({"service": "s", "metrics": METRICS})
    linker = TraceLinker(lambda rid, found: None)
    linker.ask("r1", _config(tempo.url), spec, _verdict({"latency_ms": "regression"}), 1000.0)
    linker.close()
    time.sleep(0.1)
    assert tempo.received == []
