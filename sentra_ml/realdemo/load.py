"""Steady traffic through the load balancer: a fixed request rate, every response recorded."""

from __future__ import annotations

import http.client
import threading
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class Response:
    ts: float  # wall-clock start of the request
    cohort: str  # who answered ("" when nobody did)
    status: int  # HTTP status; 0 when the connection failed
    seconds: float

    @property
    def failed(self) -> bool:
        return self.status == 0 or self.status >= 500


class LoadGenerator:
    """`rate` requests per second to ``http://127.0.0.1:port/`` from `threads` keep-alive
    clients, until `stop` (or `max_seconds`, so that a run can never flood the loopback)."""

    def __init__(self, port: int, rate: float, threads: int = 4, max_seconds: float = 1800) -> None:
        self.port = port
        self.rate = rate
        self.threads = threads
        self.deadline = time.monotonic() + max_seconds
        self.responses: list[Response] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._workers = [
            threading.Thread(target=self._run, args=(k,), daemon=True) for k in range(threads)
        ]

    def start(self) -> LoadGenerator:
        for worker in self._workers:
            worker.start()
        return self

    def stop(self) -> list[Response]:
        self._stop.set()
        for worker in self._workers:
            worker.join(timeout=10)
        with self._lock:
            return sorted(self.responses, key=lambda r: r.ts)

    def since(self, ts: float) -> list[Response]:
        with self._lock:
            return [r for r in self.responses if r.ts >= ts]

    def _run(self, k: int) -> None:
        period = self.threads / self.rate
        due = time.monotonic() + k * period / self.threads
        conn: http.client.HTTPConnection | None = None
        while not self._stop.is_set() and time.monotonic() < self.deadline:
            pause = due - time.monotonic()
            if pause > 0:
                self._stop.wait(pause)
            due = max(due + period, time.monotonic() - period)  # late: catch up, not burst
            conn, response = self._one(conn)
            with self._lock:
                self.responses.append(response)
        if conn is not None:
            conn.close()

    def _one(
        self, conn: http.client.HTTPConnection | None
    ) -> tuple[http.client.HTTPConnection | None, Response]:
        start, t0 = time.time(), time.perf_counter()
        for attempt in range(2):  # a reload closes idle keep-alive connections: retry once
            if conn is None:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
            try:
                conn.request("GET", "/")
                reply = conn.getresponse()
                reply.read()
                cohort = reply.getheader("X-Cohort", "")
                return conn, Response(start, cohort, reply.status, time.perf_counter() - t0)
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = None
                if attempt == 1:
                    break
        return None, Response(start, "", 0, time.perf_counter() - t0)
