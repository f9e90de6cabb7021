"""A real `mlflow server` for the tests: its backend store in a fresh MariaDB database, a local
artifact root, on a free 127.0.0.1 port; stoppable mid-test."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class MlflowServer:
    """`start()` polls /health until the server answers (5-10 s: it migrates its schema)."""

    def __init__(self, backend_url: str, artifacts: Path) -> None:
        self.backend_url = backend_url
        self.artifacts = artifacts
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 90.0) -> None:
        mlflow = Path(sys.executable).with_name("mlflow")
        log = (self.artifacts.parent / "mlflow-server.log").open("ab")
        self.process = subprocess.Popen(
            [
                str(mlflow),
                "server",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--workers",
                "1",
                "--backend-store-uri",
                self.backend_url,
                "--artifacts-destination",
                str(self.artifacts),
                "--serve-artifacts",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env={**os.environ, "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0"},
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"mlflow server exited with {self.process.returncode}")
            try:
                if httpx.get(f"{self.url}/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"mlflow server not healthy after {timeout:.0f} s")

    def stop(self) -> None:
        """Stop the server and its workers (its own process group, started by this object)."""
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=5)
