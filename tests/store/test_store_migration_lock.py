"""Replicas that start together on a fresh MySQL database (two API pods and two controllers in
the Kubernetes manifests) all come up: one migrates, the others wait for its lock."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
from sqlalchemy import text

from sentra_ml.store.db import make_engine

_UPGRADE = """
import sys, time
from sentra_ml.store.db import make_engine, upgrade
engine = make_engine(sys.argv[1])
while time.time() < float(sys.argv[2]):
    time.sleep(0.001)
upgrade(engine)
"""


@pytest.mark.mysql
@pytest.mark.timeout(120)
def test_four_processes_migrating_a_fresh_database_at_once_all_succeed(mysql_url: str) -> None:
    start = time.time() + 5  # past every process's imports: they race for the first CREATE
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _UPGRADE, mysql_url, str(start)],
            env=os.environ,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    errors = [p.communicate(timeout=100)[1] for p in procs]
    assert [p.returncode for p in procs] == [0] * 4, "\n".join(e for e in errors if e)
    engine = make_engine(mysql_url)
    with engine.connect() as connection:
        versions = connection.execute(text("SELECT version_num FROM alembic_version")).all()
    engine.dispose()
    assert len(versions) == 1
