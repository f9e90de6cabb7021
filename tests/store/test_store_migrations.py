"""The Alembic migrations build exactly the models' schema, on SQLite and on the real MariaDB."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from sentra_ml.store.db import make_engine, upgrade
from sentra_ml.store.schema import Base


def _check(url: str) -> None:
    engine = make_engine(url)
    upgrade(engine)
    upgrade(engine)  # idempotent
    with engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []
        columns = {c["name"]: c for c in inspect(connection).get_columns("rollouts")}
    # unix times need a double: a 32-bit float steps by 128 s today
    assert "DOUBLE" in str(columns["created_at"]["type"]).upper()
    engine.dispose()


def test_sqlite(tmp_path: Path) -> None:
    _check(f"sqlite:///{tmp_path / 'sentra.db'}")


@pytest.mark.mysql
def test_mariadb(mysql_url: str) -> None:
    _check(mysql_url)
