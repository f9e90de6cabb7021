"""Kill -9 a real `sentra controller` process at random instants of rollouts through a real
NGINX, restart it, and compare the audit's weight ledger with the weights NGINX really loaded.

NGINX is run through a wrapper that logs the servers file at each successful reload: that log is
the router's history. The invariant: the weights the ledger records as reached (applied, or
reconciled after a crash) are exactly the history, in order; nothing applied twice, nothing lost.
"""

from __future__ import annotations

import math
import os
import random
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from api_helpers import Api, lines
from nginx_server import NginxSetup
from routed import backdated, ledger, nginx_target, row

from sentra_ml.settings import Settings

_WRAPPER = """#!/bin/sh
{nginx} "$@"
rc=$?
case "$*" in *reload*) [ $rc -eq 0 ] && {{ cat {servers}; echo ---; }} >> {history} ;; esac
exit $rc
"""
POLICY = {"steps": [5, 10, 25, 50, 100], "min_step_seconds": 1, "harm_budget": 50}


@dataclass
class KillReport:
    kills: int
    rollouts: int
    promoted: int
    history: list[list[float]]
    reached: list[list[float]]
    seconds: float

    @property
    def consistent(self) -> bool:
        return self.history == self.reached


def logged_target(nginx: NginxSetup, folder: Path) -> tuple[dict[str, object], Path]:
    """The rollout target of `nginx` with the reload-logging wrapper, and the history file."""
    history = folder / "history.log"
    wrapper = folder / "nginx-logged.sh"
    command = list(nginx.router.nginx)
    wrapper.write_text(
        _WRAPPER.format(nginx=command[0], servers=nginx.router.servers_file, history=history)
    )
    wrapper.chmod(0o755)
    target = nginx_target(nginx.router)
    target["nginx"] = [str(wrapper), *command[1:]]
    return target, history


def history_weights(history: Path, canary_address: str) -> list[float]:
    """The canary percent of each reload in the log."""
    if not history.exists():
        return []
    out = []
    for block in history.read_text().split("---\n"):
        weights = {}
        for line in block.splitlines():
            if line.startswith("server "):
                parts = line.rstrip(";").split()
                w = 0.0 if "down" in parts else float(parts[2].removeprefix("weight="))
                weights[parts[1]] = w
        if weights:
            out.append(100.0 * weights[canary_address] / sum(weights.values()))
    return [round(w, 6) for w in out]


def _judged_since(api: Api, rid: str, since: float) -> bool:
    verdict = api.get(f"/v1/rollouts/{rid}/verdict").json()["verdict"]
    return verdict is not None and float(verdict["ts"]) > since


def controller_process(settings: Settings, log: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "SENTRA_DATABASE_URL": settings.resolved_database_url(),
        "SENTRA_REDIS_URL": settings.redis_url or "",
        "SENTRA_DATA_DIR": str(settings.data_dir),
    }
    argv = [sys.executable, "-m", "sentra_ml.cli", "controller", "--interval", "1",
            "--lease-seconds", "2", "--metrics-port", "0"]  # fmt: skip
    return subprocess.Popen(argv, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT)


def run_kills(
    api: Api, settings: Settings, nginx: NginxSetup, folder: Path, *, kills: int, seed: int
) -> KillReport:
    """One rollout after another through `nginx`, the controller killed `kills` times and
    restarted at once; each kill comes at a random instant 0.2-3 s after the restarted
    controller has judged again, so that kills land while it works."""
    rng = random.Random(seed)
    log = folder / "controller.log"
    proc = controller_process(settings, log)
    done_kills, rollouts, promoted = 0, 0, 0
    history_all: list[list[float]] = []
    reached_all: list[list[float]] = []
    started, restarted = time.monotonic(), time.time()
    canary = nginx.router.servers[next(c for c in nginx.router.servers if c == "canary")]
    try:
        while done_kills < kills:
            nginx.router.set_weights({"baseline": 100.0, "canary": 0.0})
            target, history = logged_target(nginx, folder)
            history.unlink(missing_ok=True)
            rollout = backdated(api, 5, target=target, policy=POLICY)
            rid, rollouts = rollout["id"], rollouts + 1
            next_kill = math.inf
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                now = time.time()
                batch = lines(now - 1, 1, canary_failed=1, total=400)
                api.post(f"/v1/rollouts/{rid}/telemetry", json={"lines": batch})
                if next_kill == math.inf and _judged_since(api, rid, restarted):
                    next_kill = time.monotonic() + rng.uniform(0.2, 3.0)
                if time.monotonic() >= next_kill and done_kills < kills:
                    proc.send_signal(signal.SIGKILL)
                    proc.wait()
                    done_kills += 1
                    proc = controller_process(settings, log)
                    restarted, next_kill = time.time(), math.inf
                if row(api, rid).state in ("promoted", "rolled_back"):
                    break
                time.sleep(0.1)
            promoted += row(api, rid).state == "promoted"
            history_all.append(history_weights(history, canary))
            reached_all.append(
                [round(w, 6) for w, s in ledger(api, rid) if s in ("applied", "reconciled")]
            )
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    return KillReport(
        done_kills, rollouts, promoted, history_all, reached_all, time.monotonic() - started
    )
