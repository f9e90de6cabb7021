"""`sentra token create | list | revoke`: API tokens in the database `sentra serve` uses.

Each command says which database it wrote to or read, resolved as `sentra serve` resolves it
(`SENTRA_DATABASE_URL`, else `SENTRA_DATA_DIR`/sentra.db from the current folder), so that a
token made in another folder than the service's is seen at once rather than silently lost.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape

if TYPE_CHECKING:  # SQLAlchemy loads only when a command runs: `sentra --help` stays quick
    from sqlalchemy.orm import Session

    from sentra_ml.settings import Settings

app = typer.Typer(
    help="API tokens (stored hashed; the secret is shown once).",
    no_args_is_help=True,
    rich_markup_mode=None,
)
err = Console(stderr=True, soft_wrap=True)


class RoleChoice(StrEnum):
    viewer = "viewer"
    operator = "operator"
    admin = "admin"


def fail(message: str, code: int = 2) -> typer.Exit:
    err.print(f"[bold red]error:[/] {escape(message)}", highlight=False)
    return typer.Exit(code)


def database_label(settings: Settings) -> str:
    """The database as the CLI names it: a SQLite file by its absolute path, any other URL
    without its password."""
    from sqlalchemy.engine import make_url

    url = make_url(settings.resolved_database_url())
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        return f"sqlite:///{Path(url.database or '').resolve()}"
    return url.render_as_string(hide_password=True)


def _sqlite_file(settings: Settings) -> Path | None:
    from sqlalchemy.engine import make_url

    url = make_url(settings.resolved_database_url())
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return Path(url.database or "").resolve()


@contextmanager
def _session(settings: Settings) -> Iterator[Session]:
    """A session on the migrated database; SQL errors become a CLI error naming it."""
    from sqlalchemy.exc import SQLAlchemyError

    from sentra_ml.store.db import make_engine, session_factory, upgrade

    try:
        engine = make_engine(settings.resolved_database_url())
        upgrade(engine)
        with session_factory(engine)() as session:
            yield session
    except SQLAlchemyError as e:
        raise fail(
            f"database {database_label(settings)}: {e.__class__.__name__}: {str(e).splitlines()[0]}"
        ) from None


@app.command("create")
def create(
    name: Annotated[str, typer.Option(metavar="NAME", help="A name for the audit, e.g. 'ci'.")],
    role: Annotated[RoleChoice, typer.Option(help="What the token may do.")] = RoleChoice.viewer,
) -> None:
    """Create a token and print its secret (stdout: the secret alone)."""
    from sentra_ml.settings import get_settings
    from sentra_ml.store import tokens

    settings = get_settings()
    file = _sqlite_file(settings)
    new = file is not None and not file.exists()
    with _session(settings) as session:
        if tokens.name_taken(session=session, name=name):
            raise fail(f"--name: a token named '{name}' exists in {database_label(settings)}")
        row, secret = tokens.create_token(
            session=session, name=name, role=tokens.Role(role.value), actor="cli"
        )
        session.commit()
        token_id = row.id
    typer.echo(secret)
    err.print(
        f"token {token_id} '{escape(name)}' ({role.value}) stored in {database_label(settings)}",
        highlight=False,
    )
    if new:
        err.print(
            "[yellow]note:[/] that database is new: `sentra serve` sees this token only with "
            "the same database (started from this folder, or the same SENTRA_DATA_DIR or "
            "SENTRA_DATABASE_URL)",
            highlight=False,
        )


@app.command("list")
def list_(
    all_: Annotated[bool, typer.Option("--all", help="Also list revoked tokens.")] = False,
) -> None:
    """List tokens (never their secrets): id, name, role, created, revoked."""
    from sentra_ml.settings import get_settings
    from sentra_ml.store import tokens

    settings = get_settings()
    with _session(settings) as session:
        rows = [r for r in tokens.list_tokens(session=session) if all_ or r.revoked_at is None]
        lines = [
            f"{r.id:>4}  {r.name:<20} {r.role:<8}  created {_when(r.created_at)} by {r.created_by}"
            + (f"  revoked {_when(r.revoked_at)}" if r.revoked_at is not None else "")
            for r in rows
        ]
    for line in lines:
        typer.echo(line)
    err.print(f"{len(lines)} token(s) in {database_label(settings)}", highlight=False)


@app.command("revoke")
def revoke(
    token: Annotated[str, typer.Argument(metavar="ID_OR_NAME", help="The token's id or name.")],
) -> None:
    """Revoke a token: a running service refuses it within 10 s (its token cache); it stays
    listed (with --all), for the audit."""
    from sqlalchemy import select

    from sentra_ml.settings import get_settings
    from sentra_ml.store import audit
    from sentra_ml.store.schema import ApiToken

    settings = get_settings()
    with _session(settings) as session:
        where = ApiToken.id == int(token) if token.isdigit() else ApiToken.name == token
        row = session.scalars(select(ApiToken).where(where)).first()
        if row is None:
            raise fail(f"no token with id or name '{token}' in {database_label(settings)}")
        if row.revoked_at is None:
            row.revoked_at = time.time()
            audit.add_event(
                session=session, rollout_id=None, kind="token", actor="cli",
                reason=f"revoked token '{row.name}'", payload={"token_id": row.id},
            )  # fmt: skip
            session.commit()
            done = f"revoked token {row.id} '{row.name}'"
        else:
            done = f"token {row.id} '{row.name}' was already revoked"
    err.print(f"{escape(done)} in {database_label(settings)}", highlight=False)


def _when(ts: float | None) -> str:
    return "-" if ts is None else time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(ts)) + "Z"
