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


def test_the_quick_head_check_agrees_with_alembic(tmp_path: Path) -> None:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from sentra_ml.store.db import MIGRATIONS, current_revision, head_revision

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    assert head_revision() == ScriptDirectory.from_config(config).get_current_head()
    engine = make_engine(f"sqlite:///{tmp_path / 'sentra.db'}")
    assert current_revision(engine) is None
    upgrade(engine)
    assert current_revision(engine) == head_revision()
    engine.dispose()


def test_a_decision_may_have_no_score_after_downgrade_and_upgrade(tmp_path: Path) -> None:
    """0005 makes `decisions.score` nullable; its downgrade fills nulls in first."""
    from alembic import command
    from alembic.config import Config

    from sentra_ml.store.db import MIGRATIONS

    engine = make_engine(f"sqlite:///{tmp_path / 'sentra.db'}")
    upgrade(engine)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0004")
    with engine.connect() as connection:
        score = {c["name"]: c for c in inspect(connection).get_columns("decisions")}["score"]
    assert score["nullable"] is False
    upgrade(engine)
    with engine.connect() as connection:
        score = {c["name"]: c for c in inspect(connection).get_columns("decisions")}["score"]
    assert score["nullable"] is True
    engine.dispose()
