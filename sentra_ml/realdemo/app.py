"""The demo service behind the load balancer: `/` answers, `/metrics` exports Prometheus metrics.

One process is one cohort; its metrics carry its `version` label, which the rollout's cohort
selectors match (a new canary's series never mix with an earlier one's). Its fault is set at
start (``--fault``) or live (``POST /fault`` with ``{"kind": ..., "size": ...}``), so that a
run can mark the fault's onset:

- ``error``: that share of requests fails with HTTP 500;
- ``latency``: that many milliseconds are added to every request;
- ``leak``: added latency that grows by `size` ms per second since the onset (a slow leak);
- ``crash``: the process exits `size` seconds after it starts (a supervisor restarts it).

Every scrape of `/metrics` is remembered (``GET /scrapes``), so a run can tell when the telemetry
that a decision used was exposed.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

FAULTS = ("none", "error", "latency", "leak", "crash")
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
BASE_LATENCY = 0.012  # seconds: the healthy service's median


@dataclass
class Fault:
    kind: str = "none"
    size: float = 0.0
    since: float = 0.0  # wall-clock onset
    base_error: float = 0.005  # a healthy service fails now and then too

    def extra_seconds(self, now: float) -> float:
        if self.kind == "latency":
            return self.size / 1000
        if self.kind == "leak":
            return self.size * max(0.0, now - self.since) / 1000
        return 0.0

    def fails(self, rng: random.Random) -> bool:
        extra = self.size if self.kind == "error" else 0.0
        return rng.random() < self.base_error + extra


class DemoService:
    """The state one process serves: its metrics, its fault, its scrape times."""

    def __init__(self, name: str, version: str, fault: Fault, seed: int) -> None:
        self.name = name
        self.fault = fault
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        self.registry = CollectorRegistry()
        requests = Counter(
            "demo_requests", "Requests served", ["version", "code"], registry=self.registry
        )
        # both series exist from the start: the first errors are never a missing series
        self.by_code = {code: requests.labels(version=version, code=code) for code in (200, 500)}
        self.latency = Histogram(
            "demo_request_duration_seconds", "Request latency", ["version"], buckets=BUCKETS,
            registry=self.registry,
        ).labels(version=version)  # fmt: skip
        self.scrapes: list[float] = []

    def serve_request(self) -> int:
        now = time.time()
        with self.lock:
            delay = BASE_LATENCY * self.rng.lognormvariate(0.0, 0.35)
            failed = self.fault.fails(self.rng)
        delay += self.fault.extra_seconds(now)
        time.sleep(delay)
        code = 500 if failed else 200
        self.by_code[code].inc()
        self.latency.observe(time.time() - now)
        return code

    def exposition(self) -> bytes:
        body = generate_latest(self.registry)
        with self.lock:
            self.scrapes.append(time.time())
            del self.scrapes[:-5000]
        return body


def handler_for(service: DemoService) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            if self.path == "/metrics":
                self._send(200, service.exposition(), "text/plain; version=0.0.4")
            elif self.path == "/scrapes":
                with service.lock:
                    body = json.dumps(service.scrapes).encode()
                self._send(200, body, "application/json")
            else:
                code = service.serve_request()
                self._send(code, f"{service.name}\n".encode(), "text/plain")

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            try:
                body = json.loads(self.rfile.read(length) or b"{}")
                kind, size = str(body["kind"]), float(body.get("size", 0.0))
                if kind not in FAULTS:
                    raise ValueError(f"kind: must be one of {', '.join(FAULTS)}")
            except (KeyError, ValueError, TypeError) as e:
                self._send(422, f"{e}\n".encode(), "text/plain")
                return
            if self.path != "/fault":
                self._send(404, b"not found\n", "text/plain")
                return
            service.fault = Fault(kind, size, time.time(), service.fault.base_error)
            if kind == "crash":
                _exit_after(size)
            self._send(200, b"ok\n", "text/plain")

        def _send(self, code: int, body: bytes, kind: str) -> None:
            self.send_response(code)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("X-Cohort", service.name)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass  # the load generator keeps the record

    return Handler


def _exit_after(seconds: float) -> None:
    timer = threading.Timer(seconds, os._exit, args=(3,))
    timer.daemon = True
    timer.start()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--name", required=True, help="the cohort this process serves")
    parser.add_argument("--version", default="v1", help="the `version` label of its metrics")
    parser.add_argument("--fault", choices=FAULTS, default="none")
    parser.add_argument("--size", type=float, default=0.0)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    fault = Fault(args.fault, args.size, time.time())
    service = DemoService(args.name, args.version, fault, args.seed)
    if args.fault == "crash":
        _exit_after(args.size)
    server = ThreadingHTTPServer((args.host, args.port), handler_for(service))
    server.daemon_threads = True
    server.serve_forever()


if __name__ == "__main__":
    main()
