"""A tiny exporter with known rates, and a private Prometheus scraping it every second."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
from adapter_servers import free_port, process, require_binary, wait_until

RPS = 100.0  # requests per second of each cohort
FAILED = {"v1": 0.01, "v2": 0.05}  # error ratio per version label
BOUNDS = ("0.05", "0.1", "0.5", "+Inf")
FASTER = {"v1": (0.8, 0.95, 1.0, 1.0), "v2": (0.5, 0.8, 1.0, 1.0)}  # share under each bound
CPU = {"v1": {"a": 0.4, "b": 0.42}, "v2": {"c": 0.6, "d": 0.62}}


class Exporter:
    """Counters that grow at known rates from each version's epoch; `reset` restarts one at 0,
    as a restarted process would."""

    def __init__(self) -> None:
        now = time.time()
        self.epochs = {version: now for version in FAILED}

    def reset(self, version: str) -> None:
        self.epochs[version] = time.time()

    def text(self) -> str:
        lines = [
            "# TYPE http_requests_total counter",
            "# TYPE http_request_duration_seconds histogram",
            "# TYPE process_cpu_ratio gauge",
        ]
        for version, epoch in self.epochs.items():
            total = int(RPS * (time.time() - epoch))
            failed = int(total * FAILED[version])
            v = f'version="{version}"'
            lines.append(f'http_requests_total{{{v},code="200"}} {total - failed}')
            lines.append(f'http_requests_total{{{v},code="500"}} {failed}')
            for le, share in zip(BOUNDS, FASTER[version], strict=True):
                count = int(total * share)
                lines.append(f'http_request_duration_seconds_bucket{{{v},le="{le}"}} {count}')
            lines.append(f"http_request_duration_seconds_count{{{v}}} {total}")
            lines.append(f"http_request_duration_seconds_sum{{{v}}} {total * 0.06}")
            for pod, cpu in CPU[version].items():
                lines.append(f'process_cpu_ratio{{{v},pod="{pod}"}} {cpu}')
        return "\n".join(lines) + "\n"


@contextlib.contextmanager
def exporting(exporter: Exporter) -> Iterator[int]:
    """Serves `exporter` on /metrics; yields the port."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = exporter.text().encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


@dataclass(frozen=True)
class PrometheusSetup:
    url: str
    exporter: Exporter
    exporter_url: str


_CONF = """
global: {{scrape_interval: 1s, evaluation_interval: 1s}}
scrape_configs:
  - job_name: app
    static_configs: [{{targets: ["127.0.0.1:{port}"]}}]
"""


@contextlib.contextmanager
def running_prometheus(directory: Path) -> Iterator[PrometheusSetup]:
    """Prometheus scraping a fresh exporter every second; ready, but maybe without samples yet."""
    binary = require_binary("prometheus", "/usr/bin/prometheus")
    exporter = Exporter()
    with exporting(exporter) as exporter_port:
        conf = directory / "prometheus.yml"
        conf.write_text(_CONF.format(port=exporter_port))
        port = free_port()
        argv = [
            binary,
            f"--config.file={conf}",
            f"--storage.tsdb.path={directory / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--log.level=warn",
        ]
        url = f"http://127.0.0.1:{port}"
        with process(argv, directory / "prometheus.log") as proc:
            wait_until(
                lambda: httpx.get(f"{url}/-/ready").status_code == 200,
                15,
                "prometheus to be ready",
                proc=proc,
            )
            yield PrometheusSetup(url, exporter, f"http://127.0.0.1:{exporter_port}")
