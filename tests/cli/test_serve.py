"""`sentra serve` with its in-process controller on the embedded defaults, as a user runs it:
a pushed regression is rolled back on wall-clock time; the scaled-out shapes need Redis."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from cli_service import free_port, wait_healthy  # type: ignore[import-not-found]
from typer.testing import CliRunner

from sentra_ml.cli import app

runner = CliRunner()


@pytest.mark.timeout(90)
def test_serve_judges_pushed_telemetry_in_process(tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "SENTRA_DATA_DIR": str(tmp_path), "SENTRA_AUTH_DISABLED": "true"}
    env.pop("SENTRA_REDIS_URL", None)
    env.pop("SENTRA_DATABASE_URL", None)
    argv = [sys.executable, "-m", "sentra_ml.cli", "serve", "--port", str(port)]
    proc = subprocess.Popen(argv, env=env, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stderr is not None
        banner = proc.stderr.readline()
        assert (
            f"listening on http://127.0.0.1:{port}" in banner and "controller: in-process" in banner
        )
        base = f"http://127.0.0.1:{port}"
        wait_healthy(port)
        metrics = [{"name": "errors", "kind": "ratio", "critical": True, "tolerance": 0.2}]
        body = {"service": "shop", "baseline_version": "v1", "canary_version": "v2",
                "metrics": metrics}  # fmt: skip
        rollout = httpx.post(f"{base}/v1/rollouts", json=body, timeout=5).json()
        now = time.time()
        batch = [
            {"ts": now - 30 + 2 * k, "cohort": cohort, "metric": "errors", "total": 100,
             "failed": 9 if cohort == "canary" else 1}
            for k in range(15) for cohort in ("baseline", "canary")
        ]  # fmt: skip
        url = f"{base}/v1/rollouts/{rollout['id']}"
        assert httpx.post(f"{url}/telemetry", json={"lines": batch}, timeout=5).status_code == 202
        deadline = time.monotonic() + 20
        state = None
        while time.monotonic() < deadline and state != "rolled_back":
            state = httpx.get(f"{url}/verdict", timeout=5).json()["state"]
            time.sleep(0.3)
        assert state == "rolled_back"  # judged by the in-process controller, no test driving it
    finally:
        proc.terminate()
        proc.wait(timeout=20)


@pytest.mark.parametrize("argv", [["serve", "--no-controller"], ["controller"]])
def test_the_scaled_out_shape_needs_redis(argv: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    from sentra_ml.settings import get_settings

    monkeypatch.delenv("SENTRA_REDIS_URL", raising=False)
    get_settings.cache_clear()
    result = runner.invoke(app, argv)
    assert result.exit_code == 2
    assert "SENTRA_REDIS_URL" in result.stderr
