"""What routes depend on: the app's services, a database session, the caller and its role."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from sentra_ml.api.auth import Principal, TokenCache, check_role, unauthorized
from sentra_ml.api.metrics import Metrics
from sentra_ml.api.spec_cache import SpecCache
from sentra_ml.settings import Settings
from sentra_ml.store.bus import Bus
from sentra_ml.store.learners import LearnerStore
from sentra_ml.store.live_state import LiveState
from sentra_ml.store.tokens import Role


@dataclass
class Services:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    bus: Bus
    live: LiveState
    learners: LearnerStore | None
    metrics: Metrics
    tokens: TokenCache
    specs: SpecCache = field(default_factory=SpecCache)  # each rollout's, parsed once


def services(request: Request) -> Services:
    svc: Services = request.app.state.services
    return svc


ServicesDep = Annotated[Services, Depends(services)]


def db(svc: ServicesDep) -> Iterator[Session]:
    with svc.sessions() as session:
        yield session


SessionDep = Annotated[Session, Depends(db)]
_bearer = HTTPBearer(auto_error=False, description="An API token: `sentra token create`")


def authenticate(svc: Services, secret: str | None) -> Principal:
    if svc.settings.auth_disabled:
        return Principal("anonymous", Role.ADMIN)
    if secret is None:
        raise unauthorized("authorization: a bearer token is required")
    principal = svc.tokens.resolve(secret)
    if principal is None:
        raise unauthorized("authorization: unknown or revoked token")
    return principal


def require(role: Role) -> Callable[..., Principal]:
    def dependency(
        svc: ServicesDep,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> Principal:
        secret = None if credentials is None else credentials.credentials
        return check_role(authenticate(svc, secret), role)

    return dependency


async def viewer_fast(
    svc: ServicesDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """`Viewer` for hot async routes: a cached token costs no thread hop; a miss goes to a
    thread, since it reads the database."""
    secret = None if credentials is None else credentials.credentials
    if secret is not None and not svc.settings.auth_disabled:
        cached = svc.tokens.peek(secret)
        if cached is None:
            await asyncio.to_thread(svc.tokens.resolve, secret)
    return check_role(authenticate(svc, secret), Role.VIEWER)


Viewer = Annotated[Principal, Depends(require(Role.VIEWER))]
ViewerFast = Annotated[Principal, Depends(viewer_fast)]
Operator = Annotated[Principal, Depends(require(Role.OPERATOR))]
Admin = Annotated[Principal, Depends(require(Role.ADMIN))]
