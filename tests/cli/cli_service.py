"""What the CLI tests share when they run `sentra serve` as a real process."""

from __future__ import annotations

import socket
import time

import httpx


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_healthy(port: int, timeout: float = 30.0) -> None:
    """Return once the service on `port` answers /healthz; fail the test after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).raise_for_status()
            return
        except httpx.HTTPError:
            assert time.monotonic() < deadline, f"the service on :{port} did not come up"
            time.sleep(0.2)
