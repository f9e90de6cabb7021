"""How many rollouts one controller judges on time, and what a second replica adds.

    .venv/bin/python benchmarks/controller_scale.py [--rollouts 100 300 1000] [--seconds 30]
        [--replicas-rollouts 2000] [--out benchmarks/results]

Each rollout pulls its metrics (errors; then errors + latency) for both cohorts from an
in-memory source every 2 s and has a no-op
router, so the figures are the controller's own cost (lease, log, judge, audit, publish) on the
embedded store. Reports loop lag p50/p99 (how late each tick starts against its schedule), CPU
per rollout-tick, and, with --replicas-rollouts, ticks/s of one replica against two replicas
in separate processes sharing MariaDB and Redis (capacity when overloaded at 1 s intervals).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import multiprocessing
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sentra_controller.controller import Controller  # noqa: E402
from sentra_controller.metrics import ControllerMetrics  # noqa: E402
from sentra_controller.scheduler import Scheduler  # noqa: E402

from benchmarks import sim_backends  # noqa: E402
from benchmarks.scratch_db import scratch_database  # noqa: E402
from sentra_ml.store import audit, keys  # noqa: E402
from sentra_ml.store.bus import Bus, InProcessBus, RedisBus  # noqa: E402
from sentra_ml.store.db import make_engine, session_factory, upgrade  # noqa: E402

METRICS: list[dict[str, Any]] = [
    {"name": "errors", "kind": "ratio", "critical": True, "tolerance": 0.2},
    {"name": "latency_ms", "kind": "latency", "tolerance": 0.2},
]
SPEC = {
    "service": "bench",
    "metrics": METRICS,
    "policy": {"steps": [1, 5, 100], "min_step_seconds": 100000, "max_step_seconds": 200000},
}


def _create(sessions: Any, n: int, metrics: list[dict[str, Any]] = METRICS) -> None:
    spec = {**SPEC, "metrics": metrics}
    with sessions() as session:
        for _ in range(n):
            audit.create_rollout(
                session=session, service="bench", namespace="bench", baseline_version="v1",
                canary_version="v2", spec=spec, weight=1.0, target={"kind": "noop"},
                source={"kind": "steady"}, actor="bench",
            )  # fmt: skip
        session.commit()


def _controller(sessions: Any, bus: Bus, interval: float) -> Controller:
    routers, sources = sim_backends.registries()
    return Controller(
        sessions=sessions, bus=bus, interval=interval, lease_seconds=10.0, learners=None,
        metrics=ControllerMetrics(), routers=routers, sources=sources,
    )  # fmt: skip


def run_one(rollouts: int, seconds: float, metrics: list[dict[str, Any]]) -> dict[str, Any]:
    """One controller, embedded store, `rollouts` at 2 s: lag and CPU per tick."""
    folder = Path(tempfile.mkdtemp(prefix="sentra-scale-"))
    engine = make_engine(f"sqlite:///{folder / 'sentra.db'}")
    upgrade(engine)
    sessions = session_factory(engine)
    _create(sessions, rollouts, metrics)
    controller = _controller(sessions, InProcessBus(), 2.0)
    scheduler = Scheduler(controller, workers=8)
    scheduler.start()
    # opening a rollout (claim, replay, first weights) is a one-off: measure after it
    opened = time.monotonic()
    while len(controller.leases.held()) < rollouts and time.monotonic() - opened < 600:
        time.sleep(0.5)
    time.sleep(4.0)
    first = len(scheduler.lags)
    cpu0, wall0 = time.process_time(), time.monotonic()
    time.sleep(seconds)
    cpu, wall = time.process_time() - cpu0, time.monotonic() - wall0
    lags = list(scheduler.lags)[first:]
    scheduler.stop()
    warm = sorted(lags)
    return {
        "open_s": wall0 - opened - 4.0,
        "metrics": "+".join(m["name"] for m in metrics),
        "rollouts": rollouts,
        "ticks": len(lags),
        "ticks_per_s": len(lags) / wall,
        "cpu_share": cpu / wall,
        "lag_p50_s": statistics.median(warm) if warm else math.nan,
        "lag_p99_s": warm[int(0.99 * (len(warm) - 1))] if warm else math.nan,
        "cpu_ms_per_tick": 1000 * cpu / max(1, len(lags)),
        "expected_ticks_per_s": rollouts / 2.0,
    }


def _replica(database: str, redis: str, ticks: Any, stop: Any) -> None:
    """One controller replica counting its ticks into `ticks` until `stop` is set."""
    engine = make_engine(database)
    controller = _controller(session_factory(engine), RedisBus(redis), 1.0)
    original = controller.tick

    def counted(row: Any, now: float) -> Any:
        result = original(row, now)
        if result is not None:
            with ticks.get_lock():
                ticks.value += 1
        return result

    controller.tick = counted  # type: ignore[method-assign]
    scheduler = Scheduler(controller, workers=8)
    scheduler.start()
    stop.wait()
    scheduler.stop()


def run_replicas(rollouts: int, seconds: float, database: str, redis: str) -> dict[str, Any]:
    """Ticks/s of one replica, then of two, on `rollouts` (a ratio metric each) at 1 s (more
    than one can do), measured once every rollout has been opened (its first verdict is on the
    bus)."""
    import redis as redis_client
    from sqlalchemy import text

    client = redis_client.Redis.from_url(redis)
    with scratch_database(database, "sentra_bench") as url, contextlib.closing(client):
        result: dict[str, Any] = {"rollouts": rollouts}
        for replicas in (1, 2):
            engine = make_engine(url)
            upgrade(engine)
            with engine.begin() as conn:
                for table in ("events", "decisions", "steps", "weight_changes", "rollouts"):
                    conn.execute(text(f"DELETE FROM {table}"))
            client.flushdb()
            _create(session_factory(engine), rollouts, METRICS[:1])  # the controller's cost
            with engine.connect() as conn:
                ids = list(conn.execute(text("SELECT id FROM rollouts")).scalars())
            ticks, stop = multiprocessing.Value("l", 0), multiprocessing.Event()
            procs = [
                multiprocessing.Process(target=_replica, args=(url, redis, ticks, stop))
                for _ in range(replicas)
            ]
            for p in procs:
                p.start()
            opened = time.monotonic()
            while sum(1 for _ in client.scan_iter(keys.verdict("*"), count=1000)) < rollouts:
                if time.monotonic() - opened > 900:
                    raise TimeoutError("the replicas did not open every rollout in 15 min")
                time.sleep(1.0)
            while replicas > 1 and time.monotonic() - opened < 300:  # spread, not churning
                leases = client.mget([keys.lease(i) for i in ids])
                owners = Counter(owner for owner in leases if owner)
                if len(owners) == replicas and max(owners.values()) <= rollouts / replicas + 2:
                    break
                time.sleep(1.0)
            result[f"open_s_{replicas}"] = time.monotonic() - opened
            time.sleep(3.0)
            before, t0 = ticks.value, time.monotonic()
            time.sleep(seconds)
            result[f"ticks_per_s_{replicas}"] = (ticks.value - before) / (time.monotonic() - t0)
            stop.set()
            for p in procs:
                p.join(timeout=120)
        result["ratio"] = result["ticks_per_s_2"] / result["ticks_per_s_1"]
        return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rollouts", type=int, nargs="+", default=[100, 300, 1000])
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--replicas-rollouts", type=int, default=0)
    parser.add_argument("--database-url", default="mysql+pymysql://root@127.0.0.1:3306/test")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/15")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    args = parser.parse_args()
    console = Console()
    rows = []
    for metrics in (METRICS[:1], METRICS):
        for n in args.rollouts:
            names = "+".join(m["name"] for m in metrics)
            console.print(f"one controller, {n} rollouts ({names}) at 2 s, {args.seconds:g} s")
            rows.append(run_one(n, args.seconds, metrics))
    table = Table(title="One controller (embedded store), metrics x 2 cohorts per rollout")
    for col in ("metrics", "rollouts", "ticks/s (expected)", "lag p50", "lag p99", "CPU ms/tick"):
        table.add_column(col, justify="right")
    for r in rows:
        table.add_row(
            str(r["metrics"]), str(r["rollouts"]),
            f"{r['ticks_per_s']:.0f} ({r['expected_ticks_per_s']:.0f})",
            f"{r['lag_p50_s']:.3f} s", f"{r['lag_p99_s']:.3f} s", f"{r['cpu_ms_per_tick']:.2f}",
        )  # fmt: skip
    console.print(table)
    result: dict[str, Any] = {"one_controller": rows}
    if args.replicas_rollouts:
        console.print(f"replicas: {args.replicas_rollouts} rollouts at 1 s on MariaDB + Redis ...")
        rep = run_replicas(args.replicas_rollouts, args.seconds, args.database_url, args.redis_url)
        console.print(
            f"ticks/s: one replica {rep['ticks_per_s_1']:.0f}, two {rep['ticks_per_s_2']:.0f} "
            f"({rep['ratio']:.2f}x)"
        )
        result["replicas"] = rep
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "controller_scale.json").write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
