"""Bearer tokens with roles, and HMAC signatures for the integration endpoints."""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from fastapi import HTTPException, Request, status
from sqlalchemy.orm import Session

from sentra_ml.store import tokens
from sentra_ml.store.tokens import Role

SIGNATURE_HEADER = "X-Sentra-Signature"


@dataclass(frozen=True)
class Principal:
    """Who is calling: the token's name (recorded in the audit) and its role."""

    name: str
    role: Role


class TokenCache:
    """Token -> principal for `ttl` seconds, so a hot read path does not hit the database.
    A revoked token stops working within `ttl`."""

    def __init__(self, sessions: Callable[[], Session], ttl: float = 10.0) -> None:
        self.sessions = sessions
        self.ttl = ttl
        self._lock = threading.Lock()
        self._cache: dict[str, tuple[float, Principal | None]] = {}

    def peek(self, secret: str) -> tuple[Principal | None] | None:
        """The cached answer, as a 1-tuple (its principal may be None), or None when not cached."""
        hit = self._cache.get(tokens.digest(secret))
        return (hit[1],) if hit is not None and hit[0] > time.monotonic() else None

    def resolve(self, secret: str) -> Principal | None:
        key = tokens.digest(secret)
        now = time.monotonic()
        with self._lock:
            hit = self._cache.get(key)
        if hit is not None and hit[0] > now:
            return hit[1]
        with self.sessions() as session:
            row = tokens.find_active(session=session, secret=secret)
            principal = None if row is None else Principal(f"token:{row.name}", Role(row.role))
        with self._lock:
            if len(self._cache) > 10_000:  # bound memory against floods of made-up tokens
                self._cache.clear()
            self._cache[key] = (now + self.ttl, principal)
        return principal

    def clear(self) -> None:
        with self._lock:
            self._cache.clear()


def bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def unauthorized(detail: str) -> HTTPException:
    return HTTPException(
        status.HTTP_401_UNAUTHORIZED, detail=detail, headers={"WWW-Authenticate": "Bearer"}
    )


def check_role(principal: Principal, needed: Role) -> Principal:
    if not principal.role.allows(needed):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            detail=f"authorization: role '{principal.role}' may not do this (needs '{needed}')",
        )
    return principal


def signature_ok(secret: str, body: bytes, header: str) -> bool:
    """GitHub-style `sha256=<hex>` HMAC of the raw body, compared in constant time."""
    scheme, _, given = header.partition("=")
    if scheme != "sha256" or not given:
        return False
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, given)
