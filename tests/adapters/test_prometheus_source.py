"""PrometheusSource against a real Prometheus scraping a real exporter every second."""

from __future__ import annotations

import contextlib
import json
import math
import statistics
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import sentra_adapters.telemetry.range_query as range_query
from adapter_servers import free_port, wait_until
from prometheus_server import CPU, FAILED, RPS, PrometheusSetup, running_prometheus
from sentra_adapters.errors import BadResponse, Misconfigured, Rejected, Unavailable
from sentra_adapters.telemetry.prometheus import PrometheusSource
from sentra_adapters.telemetry.promql import PromMetric, error_ratio, gauge, histogram

from sentra_ml.analysis.types.labels import Cohort, MetricKind
from sentra_ml.analysis.types.samples import GaugeSample, LatencySample, RatioSample

STEP = 2.0
COHORTS = {"baseline": 'version="v1"', "canary": 'version="v2"'}
VERSION = {Cohort.BASELINE: "v1", Cohort.CANARY: "v2"}
METRICS = [
    error_ratio("errors", "http_requests_total"),
    histogram("latency_ms", "http_request_duration_seconds", scale=1000),
    gauge("cpu", "process_cpu_ratio", instance_label="pod"),
]


@contextlib.contextmanager
def answering(status: int) -> Iterator[str]:
    """A server answering every request with `status` and a Prometheus-style error body."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = json.dumps({"status": "error", "errorType": "x", "error": "stub"}).encode()
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrometheusSetup]:
    with running_prometheus(tmp_path_factory.mktemp("prometheus")) as setup:
        yield setup


@pytest.fixture(scope="module")
def source(prometheus: PrometheusSetup) -> PrometheusSource:
    """A source with a few intervals of data, the canary's counters reset among them.

    Polled, never slept: Prometheus has its first samples ~5 s after start.
    """
    src = PrometheusSource(url=prometheus.url, cohorts=COHORTS, metrics=METRICS, step=STEP)
    wait_until(lambda: ratios(src, Cohort.CANARY), 30, "a first interval", every=0.1)
    prometheus.exporter.reset("v2")
    reset_at.append(time.time())
    wait_until(
        lambda: [s for s in ratios(src, Cohort.CANARY) if s.ts >= reset_at[0] + STEP],
        20,
        "an interval after the reset",
        every=0.1,
    )
    return src


reset_at: list[float] = []  # when the fixture reset the canary's counters


def ratios(src: PrometheusSource, cohort: Cohort) -> list[RatioSample]:
    window = src.fetch("errors", cohort, time.time() - 120, time.time())
    return [s for s in window.samples if isinstance(s, RatioSample)]


@pytest.mark.parametrize("cohort", list(Cohort))
def test_error_ratio_comes_from_counter_increases(source: PrometheusSource, cohort: Cohort) -> None:
    samples = ratios(source, cohort)
    assert all(s.total >= 0 and s.failed >= 0 for s in samples)
    assert len(samples) >= 2
    assert statistics.median(s.total for s in samples) == pytest.approx(RPS * STEP, rel=0.15)
    pooled = sum(s.failed for s in samples) / sum(s.total for s in samples)
    assert pooled == pytest.approx(FAILED[VERSION[cohort]], abs=0.01)
    assert all(s.ts % STEP == 0 for s in samples)  # intervals on the step grid


@pytest.mark.parametrize("cohort", list(Cohort))
def test_latency_comes_from_histogram_buckets(source: PrometheusSource, cohort: Cohort) -> None:
    window = source.fetch("latency_ms", cohort, time.time() - 120, time.time())
    assert window.samples
    for s in window.samples:
        assert isinstance(s, LatencySample)
        assert [le for le, _ in s.buckets] == [50.0, 100.0, 500.0, math.inf]  # seconds -> ms
        under_100ms = s.buckets[1][1] / s.count
        assert under_100ms == pytest.approx(0.95 if cohort is Cohort.BASELINE else 0.8, abs=0.05)


@pytest.mark.parametrize("cohort", list(Cohort))
def test_gauges_come_per_instance(source: PrometheusSource, cohort: Cohort) -> None:
    window = source.fetch("cpu", cohort, time.time() - 120, time.time())
    seen = {s.instance: s.value for s in window.samples if isinstance(s, GaugeSample)}
    assert seen == pytest.approx(CPU[VERSION[cohort]])


def test_a_counter_reset_is_not_a_negative_or_huge_interval(source: PrometheusSource) -> None:
    samples = ratios(source, Cohort.CANARY)
    holding_reset = [s for s in samples if s.ts - STEP <= reset_at[0] < s.ts]
    assert holding_reset, samples
    for s in samples:
        # the interval holding the reset counts what came after it: less, never more
        low = 0.0 if s in holding_reset else 0.3 * RPS * STEP
        assert low <= s.total <= 1.6 * RPS * STEP, samples


def test_an_unknown_cohort_or_metric_series_is_no_data(prometheus: PrometheusSetup) -> None:
    ghost = PrometheusSource(
        url=prometheus.url,
        cohorts={"baseline": 'version="v1"', "canary": 'version="v9"'},
        metrics=[*METRICS, error_ratio("ghost", "no_such_requests_total")],
        step=STEP,
    )
    now = time.time()
    assert ghost.fetch("errors", Cohort.CANARY, now - 60, now).no_data
    assert ghost.fetch("latency_ms", Cohort.CANARY, now - 60, now).no_data
    assert ghost.fetch("ghost", Cohort.BASELINE, now - 60, now).no_data
    assert ghost.fetch("errors", Cohort.BASELINE, now + 60, now + 120).no_data  # the future


def test_an_unreachable_prometheus_is_unavailable() -> None:
    dead = PrometheusSource(url=f"http://127.0.0.1:{free_port()}", cohorts=COHORTS, metrics=METRICS)
    with pytest.raises(Unavailable, match=r"^prometheus: http://127\.0\.0\.1:\d+: ConnectError"):
        dead.fetch("errors", Cohort.CANARY, time.time() - 60, time.time())


def test_a_server_that_is_not_prometheus_is_a_bad_response(prometheus: PrometheusSetup) -> None:
    # the exporter answers every path with 200 and plain text
    other = PrometheusSource(url=prometheus.exporter_url, cohorts=COHORTS, metrics=METRICS)
    with pytest.raises(BadResponse, match=r"^prometheus: HTTP 200 from "):
        other.fetch("errors", Cohort.CANARY, time.time() - 60, time.time())


def test_a_query_prometheus_cannot_parse_is_rejected(prometheus: PrometheusSetup) -> None:
    broken = PromMetric("broken", MetricKind.GAUGE, {"value": "avg(up{$selector}"})
    src = PrometheusSource(url=prometheus.url, cohorts=COHORTS, metrics=[broken], step=STEP)
    with pytest.raises(Rejected, match=r"^prometheus: query 'avg\(up\{version=\"v2\"\}': .*parse"):
        src.fetch("broken", Cohort.CANARY, time.time() - 60, time.time())


def test_a_long_window_is_fetched_in_chunks(
    source: PrometheusSource, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Prometheus refuses more than 11,000 points per series; a 1,000-point limit shows the
    # chunks are stitched without gaps or duplicates (an instant gauge has a value at each step)
    monkeypatch.setattr(range_query, "MAX_POINTS", 1000)
    query = {"value": "process_cpu_ratio{$selector}"}
    latest = PromMetric("cpu_now", MetricKind.GAUGE, query, instance_label="pod")
    fine = PrometheusSource(url=source.url, cohorts=COHORTS, metrics=[latest], step=0.001)
    # the series must already exist at the window's start: on a busy machine the first scrape
    # may be less than 5.5 s old (poll, never sleep a fixed time)
    deadline = time.time() + 30
    while time.time() < deadline:
        end = math.floor(time.time())
        if source.fetch("cpu", Cohort.BASELINE, end - 7.5, end - 5.5).samples:
            break
        time.sleep(0.5)
    window = fine.fetch("cpu_now", Cohort.BASELINE, end - 5.5, end)
    for pod in CPU["v1"]:
        stamps = [s.ts for s in window.samples if isinstance(s, GaugeSample) and s.instance == pod]
        assert len(set(stamps)) == len(stamps) == pytest.approx(5501, abs=1)


def test_a_step_finer_than_prometheus_millisecond_is_refused() -> None:
    with pytest.raises(Misconfigured, match=r"^prometheus: step: .*0\.001"):
        PrometheusSource(url="http://127.0.0.1:1", cohorts=COHORTS, metrics=METRICS, step=0.0005)


@pytest.mark.parametrize(
    ("status", "error"),
    [(503, Unavailable), (500, Unavailable), (429, Unavailable), (422, Rejected),
     (400, Rejected), (404, Misconfigured), (401, Misconfigured), (302, BadResponse)],
)  # fmt: skip
# the one mapping of sentra_adapters.http, as for Loki and Tempo: a 404 is a wrong URL
def test_http_statuses_map_to_typed_errors(status: int, error: type[Exception]) -> None:
    # a stub, as a real Prometheus cannot be made to answer each status on demand
    with answering(status) as url:
        src = PrometheusSource(url=url, cohorts=COHORTS, metrics=METRICS, step=STEP)
        with pytest.raises(error, match=r"^prometheus: "):
            src.fetch("errors", Cohort.CANARY, time.time() - 60, time.time())


def test_intervals_tile_the_counter_exactly(source: PrometheusSource) -> None:
    """Each interval holds its own requests once: the baseline's intervals add up to its
    counter's growth (increase() would extrapolate each 2 s window from 1 s of scrapes)."""
    n = 4

    def intervals() -> list[float]:
        end = math.floor(time.time() / STEP) * STEP - STEP
        window = source.fetch("errors", Cohort.BASELINE, end - (n - 1) * STEP, end)
        totals = [s.total for s in window.samples if isinstance(s, RatioSample)]
        return [end, *totals] if len(totals) == n else []

    found: list[float] = []
    wait_until(lambda: found.extend(intervals()) or found, 30, f"{n} intervals", every=0.2)
    end, totals = found[0], found[1:]
    counter = 'sum(http_requests_total{version="v1"})'
    after, before = (
        next(iter(source.query_range(counter, t, t)[0][1].values())) for t in (end, end - n * STEP)
    )
    assert sum(totals) == after - before
    assert all(t == int(t) for t in totals)  # whole requests, not extrapolated fractions
