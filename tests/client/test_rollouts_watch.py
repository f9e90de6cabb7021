"""`sentra rollouts get --watch` as a user runs it (its own process): it follows the rollout
from the WebSocket stream, shows a change made while it watches, and ends when the rollout
ends; a line per change in a log, the live panel in a terminal, JSON lines for scripts."""

from __future__ import annotations

import json
import os
import pty
import queue
import re
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO

import pytest
from live_service import LiveService, Telemetry, serving  # type: ignore[import-not-found]

from sentra_ml.settings import Settings
from sentra_ml.store.tokens import Role

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def watch(service: LiveService, rid: str, *extra: str, **kw: object) -> subprocess.Popen[bytes]:
    argv = [sys.executable, "-m", "sentra_ml.cli", "rollouts", "get", rid, "--watch", *extra]
    env = {**os.environ, **service.env(Role.VIEWER), "COLUMNS": "160", "TERM": "xterm"}
    return subprocess.Popen(argv, env=env, **kw)  # type: ignore[call-overload,no-any-return]


class Lines:
    """Everything a stream has said so far, read on a thread (a pipe or a terminal)."""

    def __init__(self, read: IO[bytes] | int) -> None:
        self.text = ""  # as written, escape sequences and all
        self._chunks: queue.Queue[bytes] = queue.Queue()
        threading.Thread(target=self._pump, args=(read,), daemon=True).start()

    def _pump(self, read: IO[bytes] | int) -> None:
        while True:
            try:
                chunk = os.read(read, 4096) if isinstance(read, int) else read.read1(4096)
            except OSError:  # a terminal whose other end is gone
                chunk = b""
            self._chunks.put(chunk)
            if not chunk:
                return

    def until(self, text: str, timeout: float = 30.0) -> str:
        deadline = time.monotonic() + timeout
        while text not in ANSI.sub("", self.text):
            left = deadline - time.monotonic()
            assert left > 0, f"never saw {text!r} in:\n{self.text}"
            try:
                self.text += self._chunks.get(timeout=left).decode(errors="replace")
            except queue.Empty:
                continue
        return self.text  # with its escape sequences


@pytest.mark.timeout(90)
def test_watch_logs_each_change_and_ends_with_the_rollout(service: LiveService) -> None:
    rid = service.create()
    proc = watch(service, rid, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert proc.stdout is not None
        seen = Lines(proc.stdout)
        seen.until(f"rollout {rid}: running, weight 50 %")  # subscribed: the snapshot is printed
        action = {"action": "pause", "reason": "a look at the dashboards"}
        assert service.call("POST", f"/v1/rollouts/{rid}/actions", json=action).status_code == 200
        seen.until("state running → paused by token:operator-")
        seen.until(": a look at the dashboards")
        with Telemetry(service, rid, canary_failed=40):  # paused still rolls back
            seen.until("state paused → rolled_back by judge")
            assert proc.wait(30) == 0
        log = seen.until("rolled_back by judge")
        assert "verdict rollback" in log and "errors regression" in log
        assert "weight 50 % → 0 %" in log
    finally:
        proc.kill()
        proc.wait()


@pytest.mark.timeout(90)
def test_watch_json_lines_for_scripts(service: LiveService) -> None:
    rid = service.create()
    proc = watch(service, rid, "-o", "json", stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert proc.stdout is not None
        first = json.loads(proc.stdout.readline())
        assert first["type"] == "rollout" and first["id"] == rid and first["state"] == "running"
        action = {"action": "abort", "reason": "wrong build"}
        assert service.call("POST", f"/v1/rollouts/{rid}/actions", json=action).status_code == 200
        out, _ = proc.communicate(timeout=30)
        assert proc.returncode == 0
        messages = [json.loads(line) for line in out.splitlines()]
        assert messages[-1]["type"] == "state" and messages[-1]["state"] == "aborted"
        assert messages[-1]["reason"] == "wrong build"
    finally:
        proc.kill()
        proc.wait()


@pytest.mark.timeout(90)
def test_watch_in_a_terminal_redraws_the_panel(service: LiveService) -> None:
    rid = service.create()
    parent, child = pty.openpty()
    proc = watch(service, rid, stdin=child, stdout=child, stderr=child)
    os.close(child)
    try:
        seen = Lines(parent)
        seen.until(f"Name:      {rid}")
        seen.until("◌ running")
        with Telemetry(service, rid, canary_failed=4):
            screen = seen.until("METRIC")  # the first verdict: a row per metric
            seen.until("errors")
            action = {"action": "pause", "reason": "hold on"}
            answer = service.call("POST", f"/v1/rollouts/{rid}/actions", json=action)
            assert answer.status_code == 200
            screen = seen.until("॥ paused")
            assert "\x1b[" in screen  # drawn in place with cursor moves, not printed as lines
            seen.until("state running → paused")  # the recent changes under the panel
        stop = {"action": "abort", "reason": "done"}
        assert service.call("POST", f"/v1/rollouts/{rid}/actions", json=stop).status_code == 200
        seen.until("✖ aborted")
        assert proc.wait(30) == 0
    finally:
        proc.kill()
        proc.wait()
        os.close(parent)


@pytest.mark.timeout(90)
def test_watch_survives_a_restart_of_the_service(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "sentra", evaluation_interval_seconds=1.0)
    first = serving(settings)
    service = next(first)
    rid = service.create()
    proc = watch(service, rid, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert proc.stdout is not None
        seen = Lines(proc.stdout)
        seen.until(f"rollout {rid}: running")
        first.close()  # the stream drops; the watcher reconnects once the service is back
        port = int(service.url.rsplit(":", 1)[1])
        second = serving(settings, port)
        again = next(second)
        again.secrets = service.secrets  # the same database: the same tokens
        try:
            action = {"action": "abort", "reason": "after the restart"}
            answer = again.call("POST", f"/v1/rollouts/{rid}/actions", json=action)
            assert answer.status_code == 200, answer.text
            seen.until("aborted")  # from the stream, or from the re-read after reconnecting
            assert proc.wait(30) == 0
        finally:
            second.close()
    finally:
        proc.kill()
        proc.wait()
