"""A dependency that is away is a 503 naming it, with `Retry-After`, rather than a plain-text 500.

Only errors that say "unreachable, busy or gone" count: a database error caused by the data
(a constraint, a value too long) is a bug to fix, and a client retrying it would fail again,
so it stays a 500.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, WebSocket
from fastapi.responses import JSONResponse
from redis import exceptions as redis_errors
from sqlalchemy import exc as sql_errors
from starlette.requests import HTTPConnection

RETRY_AFTER_SECONDS = 5
DATABASE, BUS = "database", "bus (Redis)"
# MySQL/MariaDB error numbers: too many connections, shutting down, lock wait timeout, deadlock,
# connection killed, cannot connect (socket, TCP, host), server gone away, lost connection,
# disconnected for inactivity
_MYSQL = frozenset({1040, 1053, 1205, 1213, 1927, 2002, 2003, 2005, 2006, 2013, 2055, 4031})
# SQLite primary result codes: busy, locked, I/O error, disk full, cannot open
_SQLITE = frozenset({5, 6, 10, 13, 14})
_REDIS = (redis_errors.ConnectionError, redis_errors.TimeoutError, redis_errors.ReadOnlyError)

log = logging.getLogger("sentra.api")


def database_outage(exc: BaseException) -> bool:
    """Whether a SQLAlchemy error means the database is unreachable or too busy to answer."""
    if isinstance(exc, sql_errors.TimeoutError | sql_errors.InterfaceError):
        return True  # the pool has no free connection; or the driver lost its connection
    if not isinstance(exc, sql_errors.DBAPIError):
        return False
    if exc.connection_invalidated:
        return True
    sqlite_code = getattr(exc.orig, "sqlite_errorcode", None)
    if isinstance(sqlite_code, int):
        return sqlite_code & 0xFF in _SQLITE
    args = getattr(exc.orig, "args", ())
    if args and isinstance(args[0], int):
        return args[0] in _MYSQL
    return False


def bus_outage(exc: BaseException) -> bool:
    """Whether a Redis error means Redis is unreachable, timing out or read-only (failing over)."""
    return isinstance(exc, _REDIS)


def unavailable(dependency: str) -> JSONResponse:
    """The 503 answer for `dependency`."""
    return JSONResponse(
        {"detail": f"{dependency}: unavailable; retry in {RETRY_AFTER_SECONDS} s"},
        status_code=503,
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


async def _answer(conn: HTTPConnection, exc: Exception, dependency: str) -> JSONResponse | None:
    # the exception's text is not sent: SQLAlchemy's carries the statement and its parameters
    log.warning("%s unavailable for %s: %s", dependency, conn.url.path, type(exc).__name__)
    if isinstance(conn, WebSocket):
        await conn.close(code=1011, reason=f"{dependency}: unavailable")
        return None
    return unavailable(dependency)


async def _database(conn: HTTPConnection, exc: Exception) -> JSONResponse | None:
    if not database_outage(exc):
        raise exc
    return await _answer(conn, exc, DATABASE)


async def _bus(conn: HTTPConnection, exc: Exception) -> JSONResponse | None:
    if not bus_outage(exc):
        raise exc
    return await _answer(conn, exc, BUS)


def install(app: FastAPI) -> None:
    """Answer 503 for the outages above, on every route."""
    for kind in (sql_errors.DBAPIError, sql_errors.TimeoutError):
        app.add_exception_handler(kind, _database)  # type: ignore[arg-type]
    app.add_exception_handler(redis_errors.RedisError, _bus)  # type: ignore[arg-type]
