"""`sentra controller --metrics-host`: loopback only by default, every address when asked (as in
a container, where Prometheus scrapes from another host). 127.0.0.2 stands for "not 127.0.0.1":
Linux routes all of 127/8 to the loopback device, so only a wildcard bind answers there."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.redis


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def controller(redis_url: str, data_dir: Path, *extra: str) -> Iterator[int]:
    port = _port()
    env = {**os.environ, "SENTRA_REDIS_URL": redis_url, "SENTRA_DATA_DIR": str(data_dir)}
    env.pop("SENTRA_DATABASE_URL", None)
    argv = [sys.executable, "-m", "sentra_ml.cli", "controller", "--metrics-port", str(port),
            *extra]  # fmt: skip
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=1).raise_for_status()
                break
            except httpx.HTTPError:
                assert proc.poll() is None, "the controller exited"
                assert time.monotonic() < deadline, "the controller's /metrics did not come up"
                time.sleep(0.2)
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=15)


@pytest.mark.timeout(90)
def test_metrics_listen_on_loopback_unless_a_host_is_given(redis_url: str, tmp_path: Path) -> None:
    with controller(redis_url, tmp_path / "a") as port, pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.2:{port}/metrics", timeout=2)
    with controller(redis_url, tmp_path / "b", "--metrics-host", "0.0.0.0") as port:
        answer = httpx.get(f"http://127.0.0.2:{port}/metrics", timeout=2)
        assert answer.status_code == 200 and "sentra" in answer.text
