"""How long the rollouts of a dead controller go without a verdict: two `sentra controller`
processes share rollouts on MariaDB + Redis; one is killed (-9, then SIGTERM), and the time until
each of its rollouts has a verdict from the survivor is measured.

    .venv/bin/python benchmarks/controller_takeover.py [--rollouts 20] [--lease-seconds 10]
        [--interval 2] [--rounds 3] [--out benchmarks/results]

The goal for kill -9 is at most the lease time plus one interval; a clean shutdown hands its
leases back, so the survivor takes over within about one interval.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import redis  # noqa: E402
from rich.console import Console  # noqa: E402
from sqlalchemy import text  # noqa: E402

from benchmarks.scratch_db import scratch_database  # noqa: E402
from sentra_ml.analysis.types.labels import Cohort  # noqa: E402
from sentra_ml.spec import TelemetryLine  # noqa: E402
from sentra_ml.store import audit, keys, telemetry_log  # noqa: E402
from sentra_ml.store.bus import RedisBus  # noqa: E402
from sentra_ml.store.db import make_engine, session_factory, upgrade  # noqa: E402
from sentra_ml.store.live_state import LiveState  # noqa: E402

SPEC = {
    "service": "takeover",
    "metrics": [{"name": "errors", "kind": "ratio", "critical": True, "tolerance": 0.2}],
    "policy": {"steps": [1, 5, 100], "min_step_seconds": 100000, "max_step_seconds": 200000},
    "stale_after_seconds": 60,
    "grace_seconds": 600,
}


def _controller(
    env: dict[str, str], args: argparse.Namespace, log: Path
) -> subprocess.Popen[bytes]:
    argv = [sys.executable, "-m", "sentra_ml.cli", "controller", "--interval", str(args.interval),
            "--lease-seconds", str(args.lease_seconds), "--metrics-port", "0"]  # fmt: skip
    return subprocess.Popen(argv, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT)


def _push(bus: RedisBus, ids: list[str]) -> None:
    now = time.time()
    for rid in ids:
        batch = [
            TelemetryLine(ts=now, cohort=cohort, metric="errors", total=100.0, failed=1.0)
            for cohort in Cohort
        ]
        telemetry_log.append(bus, rid, batch)


def one_round(args: argparse.Namespace, url: str, how: signal.Signals) -> dict[str, Any]:
    folder = Path(tempfile.mkdtemp(prefix="sentra-takeover-"))
    engine = make_engine(url)
    upgrade(engine)
    sessions = session_factory(engine)
    redis.Redis.from_url(args.redis_url).flushdb()
    bus = RedisBus(args.redis_url)
    live = LiveState(bus)
    env = {**os.environ, "SENTRA_DATABASE_URL": url, "SENTRA_REDIS_URL": args.redis_url,
           "SENTRA_DATA_DIR": str(folder), "SENTRA_SERVICE_LEARNER": "false"}  # fmt: skip
    procs = [_controller(env, args, folder / f"c{i}.log") for i in range(2)]
    client = redis.Redis.from_url(args.redis_url)
    while client.zcard(keys.CONTROLLERS) < 2:  # both up before the rollouts: they spread
        time.sleep(0.2)
    with sessions() as session:
        ids = [
            audit.create_rollout(
                session=session, service="takeover", namespace="bench", baseline_version="v1",
                canary_version="v2", spec=SPEC, weight=1.0, target=None, source=None,
                actor="bench",
            ).id
            for _ in range(args.rollouts)
        ]  # fmt: skip
        session.commit()
    try:
        deadline = time.time() + 60
        owners: dict[str, str | None] = {}
        while time.time() < deadline:
            _push(bus, ids)
            owners = {rid: bus.get(keys.lease(rid)) for rid in ids}
            if len({o for o in owners.values() if o}) == 2 and all(owners.values()):
                break
            time.sleep(0.5)
        victim_owner = next(o for o in owners.values() if o)
        victims = [rid for rid, o in owners.items() if o == victim_owner]
        victim = next(
            p for i, p in enumerate(procs)
            if victim_owner[:8] in (folder / f"c{i}.log").read_text()
        )  # fmt: skip
        time.sleep(args.interval * 2)
        killed_at = time.time()
        victim.send_signal(how)
        gaps: dict[str, float] = {}
        while len(gaps) < len(victims) and time.time() < killed_at + 120:
            _push(bus, ids)
            for rid in victims:
                verdict = live.latest(rid)
                if rid not in gaps and verdict is not None and float(verdict["ts"]) > killed_at:
                    gaps[rid] = time.time() - killed_at
            time.sleep(0.1)
        return {
            "signal": how.name, "rollouts": args.rollouts, "taken_over": len(gaps),
            "of": len(victims), "median_s": statistics.median(gaps.values()),
            "max_s": max(gaps.values()), "lease_s": args.lease_seconds,
            "interval_s": args.interval,
        }  # fmt: skip
    finally:
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                p.wait(timeout=30)
        with engine.begin() as conn:  # the next round starts with no active rollout
            conn.execute(text("UPDATE rollouts SET state = 'aborted'"))
        bus.close()
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rollouts", type=int, default=20)
    parser.add_argument("--lease-seconds", type=float, default=10.0)
    parser.add_argument("--interval", type=float, default=2.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--database-url", default="mysql+pymysql://root@127.0.0.1:3306/test")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/13")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    args = parser.parse_args()
    console = Console()
    results = []
    with scratch_database(args.database_url, "sentra_takeover") as url:
        for how in (signal.SIGKILL, signal.SIGTERM):
            for _ in range(args.rounds):
                with console.status(f"{how.name} ..."):
                    result = one_round(args, url, how)
                console.print(result)
                results.append(result)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "controller_takeover.json").write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
