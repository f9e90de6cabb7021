"""Shared fixtures: a rollout spec file, recorded telemetry from the simulator, and the real
MariaDB and Redis servers (skipped when missing, failed when missing under CI=true)."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from sentra_ml.analysis.types.samples import GaugeSample, LatencySample, RatioSample, Sample
from sentra_ml.simulate import ErrorStep, Scenario, Simulator, total_rps

SPEC_YAML = """
service: checkout
alpha: 0.01
policy:
  steps: [1, 5, 25, 50, 100]
  min_step_seconds: 10
metrics:
  - name: errors
    kind: ratio
    tolerance: 0.2
    critical: true
    slo: {objective: 0.05}
  - name: latency_ms
    kind: latency
    tolerance: 0.2
    quantiles: [0.5, 0.99]
  - name: cpu
    kind: gauge
    tolerance: 0.25
  - name: memory_mb
    kind: gauge
    tolerance: 0.25
"""


def sample_line(s: Sample) -> str:
    """A sample as the replay's JSON-lines input format."""
    base: dict[str, object] = {"ts": s.ts, "cohort": str(s.cohort), "metric": s.metric}
    if isinstance(s, RatioSample):
        base.update(total=s.total, failed=s.failed)
    elif isinstance(s, LatencySample):
        if s.buckets:
            base["buckets"] = {
                ("+Inf" if le == float("inf") else str(le)): c for le, c in s.buckets
            }
        else:
            base["values"] = list(s.values)
    elif isinstance(s, GaugeSample):
        base.update(value=s.value, instance=s.instance)
    return json.dumps(base)


def record(scenario: Scenario, seed: int, seconds: float, weight: float = 5.0) -> list[str]:
    sim = Simulator(scenario, seed)
    lines: list[str] = []
    t = 0.0
    while t < seconds:
        lines.extend(sample_line(s) for s in sim.tick(t, 2.0, weight))
        t += 2.0
    return lines


@pytest.fixture
def spec_file(tmp_path: Path) -> Path:
    path = tmp_path / "rollout.yaml"
    path.write_text(SPEC_YAML)
    return path


@pytest.fixture
def faulty_telemetry(tmp_path: Path) -> Path:
    """Recorded telemetry of a canary whose error ratio is 4 % instead of 1 %."""
    path = tmp_path / "telemetry.jsonl"
    scenario = Scenario("bad", total_rps(20.0), fault=ErrorStep(0.0, 0.04))
    path.write_text("\n".join(record(scenario, seed=3, seconds=240.0)) + "\n")
    return path


MYSQL_URL = os.environ.get("SENTRA_TEST_MYSQL_URL", "mysql+pymysql://root@127.0.0.1:3306/test")
REDIS_URL = os.environ.get("SENTRA_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def unavailable(what: str, err: Exception) -> None:
    """Under CI a missing server is a failure, never a silent skip."""
    message = f"{what} is not reachable ({err.__class__.__name__}: {err})"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="module")
def mysql_url() -> Iterator[str]:
    """A fresh, empty database on the real server for one test module; dropped afterwards."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"sentra_t_{uuid.uuid4().hex[:10]}"
    admin = create_engine(MYSQL_URL)
    try:
        with admin.begin() as conn:
            conn.execute(text(f"CREATE DATABASE {name}"))
    except Exception as err:
        unavailable("MariaDB at " + MYSQL_URL, err)
    try:
        yield make_url(MYSQL_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name}"))
        admin.dispose()


@pytest.fixture(scope="session")
def redis_url() -> str:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_timeout=2).ping()
    except Exception as err:
        unavailable("Redis at " + REDIS_URL, err)
    return REDIS_URL
