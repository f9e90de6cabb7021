"""TempoTraces against a local server that answers /api/search from stored traces the way
Tempo does: TraceQL, Unix-second ranges, limits, trimmed trace ids, plain-text errors."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from adapter_servers import free_port
from aws_server import answering
from fake_loki_tempo import FakeLokiTempo, Span, Trace, running_loki_tempo
from sentra_adapters.errors import BadResponse, Misconfigured, Rejected, Unavailable
from sentra_adapters.telemetry.tempo import TempoTraces, TraceLink

from sentra_ml.analysis.types.labels import Cohort, MetricKind

T0 = 1_700_000_000.0
COHORTS = {
    "baseline": 'resource.service.version = "v1"',
    "canary": 'resource.service.version = "v2"',
}


def span(version: str, ms: float, status: str = "ok", kind: str = "server") -> Span:
    attributes = {"resource.service.version": version, "span.http.status_code": 200}
    return Span(attributes, ms, status, kind)


@pytest.fixture(scope="module")
def server() -> Iterator[FakeLokiTempo]:
    with running_loki_tempo() as fake:
        fake.traces = [
            Trace("00ab" + "1" * 28, T0 + 10, 40, [span("v2", 40, "error")]),
            Trace("2" * 32, T0 + 20, 900, [span("v2", 900)]),
            Trace("3" * 32, T0 + 30, 1500, [span("v2", 1500, "error")]),
            Trace("4" * 32, T0 + 40, 700, [span("v2", 5), span("v2", 700, kind="client")]),
            Trace("5" * 32, T0 + 50, 2000, [span("v1", 2000, "error")]),
            Trace("6" * 32, T0 + 5000, 3000, [span("v2", 3000, "error")]),  # outside the window
        ]
        yield fake


@pytest.fixture
def fake(server: FakeLokiTempo) -> FakeLokiTempo:
    server.received.clear()
    server.tenant = None
    return server


def tempo(url: str, **config: Any) -> TempoTraces:
    return TempoTraces(url=url, **{"cohorts": COHORTS, **config})


def ids(links: list[TraceLink]) -> list[str]:
    return [link.trace_id[:4] for link in links]


def test_failed_canary_requests_are_found_most_recent_first(fake: FakeLokiTempo) -> None:
    links = tempo(fake.url).failed(Cohort.CANARY, T0, T0 + 60)
    assert ids(links) == ["3333", "00ab"]  # not the baseline's, not outside the window
    assert fake.received[0] == {
        "path": "/api/search",
        "q": '{ resource.service.version = "v2" && kind = server && status = error }',
        "start": "1700000000",
        "end": "1700000060",
        "limit": "5",
    }


def test_a_trimmed_trace_id_is_padded_back_to_32_digits(fake: FakeLokiTempo) -> None:
    link = tempo(fake.url).failed(Cohort.CANARY, T0, T0 + 60)[-1]
    assert link.trace_id == "00ab" + "1" * 28
    assert link.url == f"{fake.url}/api/traces/00ab{'1' * 28}"
    assert (link.root_service, link.root_name, link.start) == ("shop", "GET /cart", T0 + 10)
    assert str(link) == f"trace {link.trace_id} (GET /cart, 40 ms): {link.url}"


def test_slow_requests_are_server_spans_over_the_threshold_slowest_first(
    fake: FakeLokiTempo,
) -> None:
    links = tempo(fake.url).slow(Cohort.CANARY, T0, T0 + 60, threshold_ms=500)
    assert ids(links) == ["3333", "2222"]  # the 700 ms client span does not count
    assert [link.duration_ms for link in links] == [1500, 900]
    assert "duration > 500ms" in fake.received[0]["q"]
    every_span = tempo(fake.url, span_filter="").slow(Cohort.CANARY, T0, T0 + 60, 500)
    assert ids(every_span) == ["3333", "2222", "4444"]


def test_a_regressed_metric_gets_examples_of_its_kind(fake: FakeLokiTempo) -> None:
    t = tempo(fake.url)
    assert ids(t.for_metric(MetricKind.RATIO, Cohort.BASELINE, T0, T0 + 60)) == ["5555"]
    slow = t.for_metric(MetricKind.LATENCY, Cohort.CANARY, T0, T0 + 60, threshold_ms=1000)
    assert ids(slow) == ["3333"]
    with pytest.raises(Misconfigured, match="needs threshold_ms"):
        t.for_metric(MetricKind.LATENCY, Cohort.CANARY, T0, T0 + 60)
    with pytest.raises(Misconfigured, match="a gauge metric has no request traces"):
        t.for_metric(MetricKind.GAUGE, Cohort.CANARY, T0, T0 + 60)


def test_the_limit_is_sent_and_held(fake: FakeLokiTempo) -> None:
    assert len(tempo(fake.url).failed(Cohort.CANARY, T0, T0 + 60, limit=1)) == 1
    assert fake.received[0]["limit"] == "1"


def test_nothing_found_is_an_empty_list(fake: FakeLokiTempo) -> None:
    assert tempo(fake.url).failed(Cohort.CANARY, T0 + 9000, T0 + 9060) == []


def test_a_grafana_link_and_a_tenant(fake: FakeLokiTempo) -> None:
    fake.tenant = "team-a"
    link = "https://grafana.test/explore?traceId={trace_id}"
    t = tempo(fake.url, link=link, tenant="team-a")
    first = t.failed(Cohort.CANARY, T0, T0 + 60)[0]
    assert first.url == f"https://grafana.test/explore?traceId={'3' * 32}"
    with pytest.raises(Misconfigured, match=r"^tempo: .*HTTP 401: no org id"):
        tempo(fake.url).failed(Cohort.CANARY, T0, T0 + 60)


def test_traceql_tempo_refuses_is_rejected(fake: FakeLokiTempo) -> None:
    t = tempo(fake.url, cohorts={**COHORTS, "canary": "resource.service.version ~ v2"})
    with pytest.raises(Rejected, match=r"^tempo: search .*HTTP 400: invalid TraceQL query"):
        t.failed(Cohort.CANARY, T0, T0 + 60)


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        (503, b"upstream connect error", Unavailable),
        (429, b"job queue full", Unavailable),
        (404, b"404 page not found", Misconfigured),
        (200, b"<html>login</html>", BadResponse),
        (200, b'{"traces": [{"rootServiceName": "shop"}]}', BadResponse),
        (200, b'{"traces": {"a": 1}}', BadResponse),
    ],
)
def test_unusable_answers_are_typed_errors(status: int, body: bytes, error: type) -> None:
    with (
        answering(status, {"Content-Type": "text/plain"}, body) as stub,
        pytest.raises(error, match=r"^tempo: "),
    ):
        tempo(stub.endpoint).failed(Cohort.CANARY, T0, T0 + 60)


def test_an_answer_without_traces_is_an_empty_list() -> None:
    with answering(200, {"Content-Type": "application/json"}, b'{"metrics": {}}') as stub:
        assert tempo(stub.endpoint).failed(Cohort.CANARY, T0, T0 + 60) == []


def test_a_dead_tempo_is_unavailable() -> None:
    t = tempo(f"http://127.0.0.1:{free_port()}", client=httpx.Client(timeout=1.0))
    with pytest.raises(Unavailable, match=r"^tempo: http://127.0.0.1:\d+: ConnectError"):
        t.failed(Cohort.CANARY, T0, T0 + 60)


def test_bad_configuration_is_refused() -> None:
    with pytest.raises(Misconfigured, match=r"^tempo: cohorts: .*missing \['baseline'\]"):
        TempoTraces(url="http://x", cohorts={"canary": "x"})
    with pytest.raises(Misconfigured, match="no braces"):
        tempo("http://x", cohorts={**COHORTS, "canary": '{ resource.x = "y" }'})
    with pytest.raises(Misconfigured, match="link"):
        tempo("http://x", link="{url}/{span_id}")
    with pytest.raises(Misconfigured, match="threshold_ms"):
        tempo("http://x").slow(Cohort.CANARY, T0, T0 + 60, threshold_ms=-1)
