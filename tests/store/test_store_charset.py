"""Non-ASCII names and reasons on a MariaDB whose default charset is latin1, and SQL errors that
never show their parameters (they may hold credentials)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from sentra_ml.store import audit
from sentra_ml.store.db import MIGRATIONS, make_engine, upgrade
from sentra_ml.store.schema import Base

SERVICE = "paiement-é-日本語-🚀"
REASON = "rollback: ошибка 5xx 🔥 (Zürich)"
SECRET = "hunter2-Sup3rS3cret"


@pytest.fixture
def latin1_url(mysql_url: str) -> Iterator[str]:
    """A database created with `CHARACTER SET latin1` on the same server; dropped afterwards."""
    name = f"sentra_l1_{uuid.uuid4().hex[:10]}"
    admin = create_engine(make_url(mysql_url).set(database=""))
    with admin.begin() as conn:
        conn.execute(text(f"CREATE DATABASE {name} CHARACTER SET latin1"))
    try:
        yield make_url(mysql_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name}"))
        admin.dispose()


def _store_and_read(url: str) -> None:
    engine = make_engine(url)
    with Session(engine) as session:
        rollout = audit.create_rollout(
            session=session,
            service=SERVICE,
            namespace="équipe",
            baseline_version="v1-α",
            canary_version="v2-β",
            spec={"note": "日本"},
            weight=1.0,
            target=None,
            source=None,
            actor="opérateur",
        )
        audit.add_event(
            session=session,
            rollout_id=rollout.id,
            kind="rollback",
            actor="jürgen",
            reason=REASON,
            payload={"why": REASON},
        )
        session.commit()
        rollout_id = rollout.id
    with Session(engine) as session:
        page, total = audit.list_rollouts(
            session=session, service=SERVICE, state=None, limit=10, offset=0
        )
        assert total == 1 and page[0].service == SERVICE and page[0].namespace == "équipe"
        found = audit.find_for_target(session=session, namespace="équipe", service=SERVICE)
        assert found is not None and found.id == rollout_id
        reasons = [
            e.reason
            for e, _ in audit.list_events(
                session=session, rollout_id=rollout_id, limit=10, offset=0
            )
        ]
        assert reasons[-1] == REASON
        assert f"{SERVICE}: v1-α -> v2-β" in reasons
    engine.dispose()


@pytest.mark.mysql
def test_non_ascii_round_trips_on_a_latin1_database(latin1_url: str) -> None:
    engine = make_engine(latin1_url)
    upgrade(engine)
    with engine.connect() as conn:
        assert conn.scalar(text("SELECT @@character_set_connection")) == "utf8mb4"
        # converted, the tables still are the models' (TEXT stays TEXT, the keys are back)
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
        collations = conn.execute(
            text(
                "SELECT table_name, table_collation FROM information_schema.tables "
                "WHERE table_schema = DATABASE() AND table_name <> 'alembic_version'"
            )
        ).all()
        columns = conn.execute(
            text(
                "SELECT table_name, column_name, character_set_name FROM information_schema.columns"
                " WHERE table_schema = DATABASE() AND character_set_name IS NOT NULL"
                " AND table_name <> 'alembic_version'"
            )
        ).all()
    engine.dispose()
    assert len(collations) >= 7 and all(c.startswith("utf8mb4") for _, c in collations)
    assert columns and all(charset == "utf8mb4" for _, _, charset in columns)
    _store_and_read(latin1_url)


@pytest.mark.mysql
def test_an_existing_latin1_deployment_is_converted_keeping_its_data(latin1_url: str) -> None:
    engine = make_engine(latin1_url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0003")  # the schema as deployed before utf8mb4
    with Session(engine) as session:
        old = audit.create_rollout(
            session=session,
            service="checkout",
            namespace="shop",
            baseline_version="v1",
            canary_version="v2",
            spec={},
            weight=1.0,
            target=None,
            source=None,
            actor="ops",
        )
        session.commit()
        old_id = old.id
    upgrade(engine)
    with Session(engine) as session:
        page, total = audit.list_rollouts(
            session=session, service="checkout", state=None, limit=10, offset=0
        )
        assert total == 1 and page[0].id == old_id
    engine.dispose()
    _store_and_read(latin1_url)


def _failing_statement(url: str) -> str:
    engine = make_engine(url)
    with pytest.raises(DBAPIError) as err, engine.connect() as conn:
        conn.execute(text("SELECT token FROM no_such_table WHERE token = :t"), {"t": SECRET})
    engine.dispose()
    return str(err.value)


def test_sql_errors_hide_their_parameters_on_sqlite(tmp_path: Path) -> None:
    message = _failing_statement(f"sqlite:///{tmp_path / 'sentra.db'}")
    assert "no_such_table" in message and SECRET not in message


@pytest.mark.mysql
def test_sql_errors_hide_their_parameters_on_mariadb(mysql_url: str) -> None:
    message = _failing_statement(mysql_url)
    assert "no_such_table" in message and SECRET not in message


def test_mysql_engines_talk_utf8mb4_unless_the_url_says_otherwise() -> None:
    plain = make_engine("mysql+pymysql://sentra:pw@db.example:3306/sentra")
    assert plain.url.query["charset"] == "utf8mb4" and plain.url.password == "pw"
    given = make_engine("mysql+pymysql://sentra@db.example/sentra?charset=utf8mb3")
    assert given.url.query["charset"] == "utf8mb3"
    assert plain.hide_parameters and given.hide_parameters
