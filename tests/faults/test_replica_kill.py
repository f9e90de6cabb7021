"""kill -9 of an API replica under load: the other replica keeps taking telemetry, and every
batch a replica answered 202 for is in the rollout's log (what was acknowledged is never lost)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from sentra_ml.store import telemetry_log
from sentra_ml.store.bus import RedisBus


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _replica(env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    argv = [sys.executable, "-m", "sentra_ml.cli", "serve", "--no-controller", "--port", str(port)]
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.2)
    raise TimeoutError("replica did not come up")


@pytest.mark.mysql
@pytest.mark.redis
@pytest.mark.timeout(120)
def test_a_killed_replica_loses_nothing_it_acknowledged(
    tmp_path: Path, mysql_url: str, redis_url: str
) -> None:
    env = {**os.environ, "SENTRA_DATABASE_URL": mysql_url, "SENTRA_REDIS_URL": redis_url,
           "SENTRA_AUTH_DISABLED": "true", "SENTRA_DATA_DIR": str(tmp_path)}  # fmt: skip
    ports = [_port(), _port()]
    victim, survivor = (_replica(env, p) for p in ports)
    try:
        metrics = [{"name": "errors", "kind": "ratio", "critical": True, "tolerance": 0.2}]
        body = {"service": "kill", "baseline_version": "v1", "canary_version": "v2",
                "metrics": metrics}  # fmt: skip
        rid = httpx.post(f"http://127.0.0.1:{ports[1]}/v1/rollouts", json=body).json()["id"]
        acknowledged: list[float] = []
        refused = 0
        stop = threading.Event()
        lock = threading.Lock()

        def push(worker: int) -> None:
            nonlocal refused
            n = 0
            with httpx.Client(timeout=5) as client:
                while not stop.is_set():
                    ts = time.time() - 30 + worker * 1e-3 + n * 1e-6
                    n += 1
                    batch = [{"ts": ts, "cohort": c, "metric": "errors", "total": 10, "failed": 0}
                             for c in ("baseline", "canary")]  # fmt: skip
                    port = ports[n % 2]
                    try:
                        answer = client.post(
                            f"http://127.0.0.1:{port}/v1/rollouts/{rid}/telemetry",
                            json={"lines": batch},
                        )
                        ok = answer.status_code == 202
                    except httpx.HTTPError:
                        ok = False
                    with lock:
                        if ok:
                            acknowledged.append(ts)
                        else:
                            refused += 1

        pushers = [threading.Thread(target=push, args=(w,)) for w in range(4)]
        for t in pushers:
            t.start()
        time.sleep(2.0)
        victim.send_signal(signal.SIGKILL)
        victim.wait()
        killed_with = len(acknowledged)
        time.sleep(2.0)
        stop.set()
        for t in pushers:
            t.join()
    finally:
        for proc in (victim, survivor):
            if proc.poll() is None:
                proc.terminate()
                proc.wait(timeout=20)
    bus = RedisBus(redis_url)
    logged = {line.ts for batch in telemetry_log.read(bus, rid, None, 0).entries for line in batch}
    bus.close()
    assert refused > 0  # the victim's clients saw it die (and would retry elsewhere)
    assert len(acknowledged) > killed_with  # the survivor went on taking telemetry
    assert set(acknowledged) <= logged  # nothing acknowledged is missing from the log
