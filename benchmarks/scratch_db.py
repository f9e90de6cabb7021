"""A scratch MySQL/MariaDB database for one benchmark run, dropped afterwards."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

from sqlalchemy import text
from sqlalchemy.engine import make_url

from sentra_ml.store.db import make_engine


@contextlib.contextmanager
def scratch_database(server_url: str, prefix: str) -> Iterator[str]:
    """The URL of a new utf8mb4 database on the server of `server_url`."""
    name = f"{prefix}_{os.getpid()}"
    admin = make_engine(server_url)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE DATABASE {name} CHARACTER SET utf8mb4"))
    try:
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name}"))
        admin.dispose()
