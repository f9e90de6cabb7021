"""API tokens: the secret is shown once, stored as SHA-256, revoked but never deleted."""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Sequence
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from sentra_ml.store.schema import ApiToken

PREFIX = "sentra_"


class Role(StrEnum):
    VIEWER = "viewer"
    OPERATOR = "operator"
    ADMIN = "admin"

    def allows(self, needed: Role) -> bool:
        order = (Role.VIEWER, Role.OPERATOR, Role.ADMIN)
        return order.index(self) >= order.index(needed)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_token(
    *, session: Session, name: str, role: Role, actor: str, now: float | None = None
) -> tuple[ApiToken, str]:
    """A new token row and its secret (returned once, never stored)."""
    secret = PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(
        name=name,
        role=role.value,
        token_hash=digest(secret),
        created_by=actor,
        created_at=time.time() if now is None else now,
    )
    session.add(row)
    session.flush()
    return row, secret


def find_active(*, session: Session, secret: str) -> ApiToken | None:
    row = session.scalars(select(ApiToken).where(ApiToken.token_hash == digest(secret))).first()
    return row if row is not None and row.revoked_at is None else None


def name_taken(*, session: Session, name: str) -> bool:
    return session.scalars(select(ApiToken.id).where(ApiToken.name == name)).first() is not None


def list_tokens(*, session: Session) -> Sequence[ApiToken]:
    return session.scalars(select(ApiToken).order_by(ApiToken.id)).all()
