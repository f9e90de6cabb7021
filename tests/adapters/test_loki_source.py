"""LokiSource against a local server that answers query_range from stored log lines the way
Loki does, and checks the parameters it receives."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from adapter_servers import free_port
from aws_server import answering
from fake_loki_tempo import FakeLokiTempo, running_loki_tempo
from sentra_adapters.errors import BadResponse, Misconfigured, Rejected, Unavailable
from sentra_adapters.telemetry.loki import LogMetric, error_lines, line_count
from sentra_adapters.telemetry.registry import sources

from sentra_ml.analysis.types.labels import Cohort, MetricKind
from sentra_ml.analysis.types.samples import GaugeSample, RatioSample

T0 = 1_700_000_000.0  # a multiple of 10 s
SELECTORS = {"baseline": 'app="shop", track="stable"', "canary": 'app="shop", track="canary"'}
METRICS = [error_lines("errors"), line_count("lines")]


@pytest.fixture(scope="module")
def server() -> Iterator[FakeLokiTempo]:
    with running_loki_tempo() as fake:
        # 6 intervals of 10 s: 10 lines each, 1 (baseline) or 3 (canary) with "error"; the
        # canary logs nothing in the 4th interval
        for cohort, track, errors in (("baseline", "stable", 1), ("canary", "canary", 3)):
            for interval in range(6):
                if cohort == "canary" and interval == 3:
                    continue
                for i in range(10):
                    text = "level=error msg=boom" if i < errors else "level=info msg=ok"
                    labels = {"app": "shop", "track": track, "pod": f"{cohort}-{i % 2}"}
                    fake.lines.append((T0 + interval * 10 + i + 0.5, labels, text))
        fake.lines.append((T0 + 5, {"app": "other", "track": "canary"}, "error"))
        yield fake


@pytest.fixture
def fake(server: FakeLokiTempo) -> FakeLokiTempo:
    server.received.clear()
    server.tenant = None
    return server


def source(url: str, **config: Any) -> Any:
    config = {"cohorts": SELECTORS, "metrics": METRICS, "step": 10.0, **config}
    return sources.create("loki", url=url, **config)


def test_error_lines_per_interval_are_ratio_samples(fake: FakeLokiTempo) -> None:
    window = source(fake.url).fetch("errors", Cohort.CANARY, T0, T0 + 60)
    got = [(s.ts - T0, s.total, s.failed) for s in window.samples]
    assert got == [(10, 10, 3), (20, 10, 3), (30, 10, 3), (50, 10, 3), (60, 10, 3)]
    assert all(isinstance(s, RatioSample) and s.cohort is Cohort.CANARY for s in window.samples)
    baseline = source(fake.url).fetch("errors", Cohort.BASELINE, T0, T0 + 60)
    assert [(s.total, s.failed) for s in baseline.samples] == [(10, 1)] * 6


def test_the_queries_and_parameters_sent_are_logql_and_loki_times(fake: FakeLokiTempo) -> None:
    source(fake.url).fetch("errors", Cohort.CANARY, T0 + 1, T0 + 59)
    sent = {r["query"]: r for r in fake.received}
    assert set(sent) == {
        'sum(count_over_time({app="shop", track="canary"}[10000ms]))',
        'sum(count_over_time({app="shop", track="canary"} |= "error" [10000ms]))',
    }
    for params in sent.values():
        # the grid: intervals ending at T0+10 ... T0+50, in nanoseconds
        assert (params["start"], params["end"]) == ("1700000010000000000", "1700000050000000000")
        assert params["step"] == "10" and params["path"] == "/loki/api/v1/query_range"


def test_line_counts_are_gauge_samples(fake: FakeLokiTempo) -> None:
    window = source(fake.url).fetch("lines", Cohort.BASELINE, T0, T0 + 30)
    assert [(s.ts - T0, s.value) for s in window.samples] == [(10, 10), (20, 10), (30, 10)]
    assert all(isinstance(s, GaugeSample) for s in window.samples)


def test_a_silent_cohort_or_window_is_no_data_not_an_error(fake: FakeLokiTempo) -> None:
    assert source(fake.url).fetch("errors", Cohort.CANARY, T0 + 31, T0 + 40).no_data
    assert source(fake.url).fetch("errors", Cohort.CANARY, T0 + 3600, T0 + 7200).no_data


def test_a_long_window_is_fetched_in_chunks_below_lokis_point_limit(fake: FakeLokiTempo) -> None:
    window = source(fake.url, step=1.0).fetch("lines", Cohort.BASELINE, T0 - 20_000, T0 + 60)
    assert sum(s.value for s in window.samples) == 60  # 1 s intervals tile: each line once
    starts = sorted(int(r["start"]) for r in fake.received)
    assert len(starts) == 3 and all(r["step"] == "1" for r in fake.received)
    # in one request Loki would refuse it
    with pytest.raises(Rejected, match="exceeded maximum resolution of 11,000 points"):
        source(fake.url, step=1.0).query_range('sum(count_over_time({a="b"}[1s]))', T0 - 20_000, T0)


def test_a_tenant_is_sent_and_a_missing_one_is_a_configuration_error(fake: FakeLokiTempo) -> None:
    fake.tenant = "team-a"
    assert not source(fake.url, tenant="team-a").fetch("errors", Cohort.CANARY, T0, T0 + 60).no_data
    with pytest.raises(Misconfigured, match=r"^loki: .*HTTP 401: no org id"):
        source(fake.url).fetch("errors", Cohort.CANARY, T0, T0 + 60)


def test_logql_loki_refuses_is_rejected_with_lokis_message(fake: FakeLokiTempo) -> None:
    bad = LogMetric("bad", MetricKind.GAUGE, {"value": "count_over_time({$selector}[$interval])"})
    with pytest.raises(Rejected, match=r"^loki: query .*HTTP 400: parse error"):
        source(fake.url, metrics=[bad]).fetch("bad", Cohort.CANARY, T0, T0 + 60)


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        (503, b"too many unhealthy instances in the ring", Unavailable),
        (429, b"too many outstanding requests", Unavailable),
        (404, b"404 page not found", Misconfigured),
        (200, b"<html>login</html>", BadResponse),
        (200, b'{"status":"success","data":{"resultType":"streams","result":[]}}', BadResponse),
    ],
)
def test_unusable_answers_are_typed_errors(status: int, body: bytes, error: type) -> None:
    with (
        answering(status, {"Content-Type": "text/plain"}, body) as stub,
        pytest.raises(error, match=r"^loki: "),
    ):
        source(stub.endpoint).fetch("errors", Cohort.CANARY, T0, T0 + 60)


def test_a_dead_loki_is_unavailable() -> None:
    client = httpx.Client(timeout=1.0)
    with pytest.raises(Unavailable, match=r"^loki: http://127.0.0.1:\d+: ConnectError"):
        source(f"http://127.0.0.1:{free_port()}", client=client).fetch(
            "errors", Cohort.CANARY, T0, T0 + 60
        )


def test_bad_configuration_is_refused() -> None:
    with pytest.raises(Misconfigured, match=r"metrics\[x\].total: the query must use \$selector"):
        LogMetric.from_config({"name": "x", "kind": "ratio", "total": "a", "failed": "b"})
    with pytest.raises(Misconfigured, match="loki has no latency samples"):
        LogMetric.from_config({"name": "x", "kind": "latency", "buckets": "{$selector}"})
    with pytest.raises(Misconfigured, match=r"^loki: cohorts: .*missing \['baseline'\]"):
        source("http://127.0.0.1:1", cohorts={"canary": 'app="x"'})
    with pytest.raises(Misconfigured, match="unknown metric 'nope'"):
        source("http://127.0.0.1:1").fetch("nope", Cohort.CANARY, T0, T0 + 60)
