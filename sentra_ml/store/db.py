"""Engines and migrations: SQLite by default, MySQL/MariaDB through PyMySQL in production."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = Path(__file__).parent / "migrations"
MIGRATION_LOCK_SECONDS = 120


def make_engine(url: str) -> Engine:
    """An engine for `url`; SQLite gets WAL and foreign keys, MySQL pre-pings pooled connections
    and talks utf8mb4 unless the URL names a charset. SQL errors never show their parameters:
    they may hold credentials (token hashes, secrets in specs) and errors get logged."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, hide_parameters=True
        )

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.close()

        return engine
    if parsed.get_backend_name() == "mysql" and "charset" not in parsed.query:
        # the driver's default may be latin1 or 3-byte utf8: names and reasons are any Unicode
        parsed = parsed.update_query_dict({"charset": "utf8mb4"})
    return create_engine(
        parsed,
        pool_pre_ping=True,
        pool_size=10,
        max_overflow=20,
        pool_recycle=3600,
        hide_parameters=True,
    )


def head_revision() -> str:
    """The newest migration's revision, from the file names (`0005_nullable_score.py`), which
    a test keeps equal to Alembic's own head: reading it needs no Alembic."""
    return max(p.name[:4] for p in (MIGRATIONS / "versions").glob("[0-9][0-9][0-9][0-9]_*.py"))


def current_revision(engine: Engine) -> str | None:
    """The database's migration revision; None for a database never migrated."""
    with engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return None
        return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest migration (idempotent). On MySQL, replicas that start
    together take turns: one migrates, the others then find nothing to do. A database already
    at the head is left alone without loading Alembic (the CLI's token commands start fast)."""
    if current_revision(engine) == head_revision():
        return
    from alembic import command  # slow to import; needed only when there is work to do
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection, _migration_lock(connection):
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


@contextlib.contextmanager
def _migration_lock(connection: Connection) -> Iterator[None]:
    """MySQL's advisory lock for this database, held by the session (DDL commits implicitly,
    so a transaction cannot serialize migrations). Without it, two replicas on a fresh
    database both run CREATE TABLE and all but one fail with "already exists"."""
    if connection.dialect.name != "mysql":
        yield
        return
    name = f"sentra.migrations.{connection.engine.url.database}"[:64]
    got = connection.execute(
        text("SELECT GET_LOCK(:name, :timeout)"), {"name": name, "timeout": MIGRATION_LOCK_SECONDS}
    ).scalar()
    if got != 1:
        raise TimeoutError(
            f"database: another process held the migration lock {name!r} "
            f"for {MIGRATION_LOCK_SECONDS} s"
        )
    try:
        yield
    finally:
        connection.execute(text("SELECT RELEASE_LOCK(:name)"), {"name": name})


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)
