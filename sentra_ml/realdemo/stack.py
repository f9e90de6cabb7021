"""The real loop's servers: two demo services, a load balancer, Prometheus, steady load, and
the Sentra service with its in-process controller (MariaDB and Redis when reachable)."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from sentra_ml.realdemo.fronts import Front
from sentra_ml.realdemo.fronts import start as start_front
from sentra_ml.realdemo.load import LoadGenerator
from sentra_ml.realdemo.processes import (
    Supervisor,
    free_port,
    python_module,
    running,
    wait_until,
)
from sentra_ml.realdemo.prometheus import prometheus

MARIADB = "mysql+pymysql://root@127.0.0.1:3306/"
REDIS = "redis://127.0.0.1:6379/0"
APP = "sentra_ml.realdemo.app"
BASELINE_VERSION = "v1"


@dataclass
class Stack:
    front: Front
    prometheus_url: str
    api: httpx.Client
    database_url: str
    bus: str
    baseline: Supervisor
    canary_port: int
    load: LoadGenerator
    directory: Path


def app_command(
    port: int, name: str, version: str, fault: str = "none", size: float = 0.0
) -> list[str]:
    return python_module(APP, "--port", str(port), "--name", name, "--version", version,
                         "--fault", fault, "--size", str(size), "--seed", str(port))  # fmt: skip


def served_by(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


@contextlib.contextmanager
def servers(embedded: bool) -> Iterator[tuple[str | None, str | None, str]]:
    """The database URL and Redis URL to run on (None: embedded) and a description."""
    if embedded:
        yield None, None, "SQLite + in-process bus (embedded defaults)"
        return
    from sqlalchemy import create_engine, text

    redis_url = REDIS if _redis_answers() else None
    name = f"sentra_realdemo_{uuid.uuid4().hex[:8]}"
    admin = create_engine(MARIADB)
    try:
        with admin.begin() as conn:
            conn.execute(text(f"CREATE DATABASE {name} CHARACTER SET utf8mb4"))
    except Exception:
        admin.dispose()
        bus = "Redis" if redis_url else "in-process bus"
        yield None, redis_url, f"SQLite (no MariaDB at 127.0.0.1:3306) + {bus}"
        return
    try:
        bus = "Redis at 127.0.0.1:6379" if redis_url else "in-process bus (no Redis)"
        yield f"{MARIADB}{name}?charset=utf8mb4", redis_url, f"MariaDB ({name}) + {bus}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name}"))
        admin.dispose()


def _redis_answers() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(REDIS, socket_timeout=1).ping())
    except redis.RedisError:
        return False


@contextlib.contextmanager
def stack(router: str, d: Path, rate: float, embedded: bool = False) -> Iterator[Stack]:
    """Everything up, traffic flowing through `router` to the baseline only."""
    d.mkdir(parents=True, exist_ok=True)
    base_port, canary_port = free_port(), free_port()
    baseline = Supervisor(app_command(base_port, "baseline", BASELINE_VERSION), d / "baseline.log")
    try:
        wait_until(lambda: served_by(base_port), 15, "the baseline service", None)
        with (
            servers(embedded) as (db_url, redis_url, described),
            start_front(router, d, base_port, canary_port) as front,
            prometheus(d / "prometheus", base_port, canary_port, front.stats) as prom_url,
            sentra_service(d / "sentra", db_url, redis_url) as (api, resolved_db),
        ):
            load = LoadGenerator(front.port, rate).start()
            try:
                yield Stack(front, prom_url, api, resolved_db, described, baseline,
                            canary_port, load, d)  # fmt: skip
            finally:
                load.stop()
    finally:
        baseline.close()


@contextlib.contextmanager
def sentra_service(
    d: Path, db_url: str | None, redis_url: str | None
) -> Iterator[tuple[httpx.Client, str]]:
    """`sentra serve` (API + in-process controller) on a free port, without auth (loopback)."""
    d.mkdir(parents=True, exist_ok=True)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SENTRA_")}
    env |= {"SENTRA_DATA_DIR": str(d), "SENTRA_AUTH_DISABLED": "true"}
    if db_url:
        env["SENTRA_DATABASE_URL"] = db_url
    if redis_url:
        env["SENTRA_REDIS_URL"] = redis_url
    command = python_module("sentra_ml.cli", "serve", "--host", "127.0.0.1", "--port", str(port))
    with (
        running(command, d / "sentra.log", env=env) as proc,
        httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as api,
    ):
        wait_until(lambda: api.get("/readyz").status_code == 200, 60, "sentra serve", proc)
        yield api, db_url or f"sqlite:///{d / 'sentra.db'}"
