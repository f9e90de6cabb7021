"""API tokens and named policies (admin only; any caller may ask who it is). Tokens are revoked,
never deleted."""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, status

from sentra_ml.analysis.types.errors import SpecError
from sentra_ml.api.deps import Admin, ServicesDep, SessionDep, Viewer
from sentra_ml.api.schemas import (
    Caller,
    PolicyIn,
    PolicyOut,
    TokenCreate,
    TokenCreated,
    TokenOut,
)
from sentra_ml.spec import clip, parse_spec
from sentra_ml.store import audit, tokens
from sentra_ml.store.schema import ApiToken, Policy

router = APIRouter(prefix="/v1", tags=["admin"])


@router.get("/me")
def me(who: Viewer) -> Caller:
    """Who the token is and its role (the dashboard shows operators their buttons)."""
    return Caller(name=who.name, role=who.role)


@router.post(
    "/tokens",
    status_code=status.HTTP_201_CREATED,
    responses={409: {"description": "a token of this name exists"}},
)
def create_token(body: TokenCreate, session: SessionDep, who: Admin) -> TokenCreated:
    """A new token; its secret is in this answer only."""
    if tokens.name_taken(session=session, name=body.name):
        raise HTTPException(status.HTTP_409_CONFLICT, f"name: a token '{clip(body.name)}' exists")
    row, secret = tokens.create_token(
        session=session, name=body.name, role=body.role, actor=who.name
    )
    audit.add_event(
        session=session, rollout_id=None, kind="token", actor=who.name,
        reason=f"created token '{body.name}' ({body.role})", payload={"token_id": row.id},
    )  # fmt: skip
    session.commit()
    return TokenCreated(
        **TokenOut.model_validate(row, from_attributes=True).model_dump(), token=secret
    )


@router.get("/tokens")
def list_tokens(session: SessionDep, _: Admin) -> list[TokenOut]:
    return [
        TokenOut.model_validate(t, from_attributes=True)
        for t in tokens.list_tokens(session=session)
    ]


@router.delete(
    "/tokens/{token_id}",
    responses={
        404: {"description": "no such token"},
        409: {"description": "a token cannot revoke itself"},
    },
)
def revoke_token(
    token_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    svc: ServicesDep,
    session: SessionDep,
    who: Admin,
) -> TokenOut:
    """Revoke a token (it stays listed, for the audit); not the caller's own, so that an admin
    cannot lock itself out."""
    row = session.get(ApiToken, token_id)
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"token_id: no token {token_id}")
    if who.name == f"token:{row.name}":
        raise HTTPException(
            status.HTTP_409_CONFLICT, "token_id: this is the caller's own token; use another"
        )
    if row.revoked_at is None:
        row.revoked_at = time.time()
        audit.add_event(
            session=session, rollout_id=None, kind="token", actor=who.name,
            reason=f"revoked token '{row.name}'", payload={"token_id": row.id},
        )  # fmt: skip
        session.commit()
    svc.tokens.clear()
    return TokenOut.model_validate(row, from_attributes=True)


@router.put("/policies/{name}", responses={422: {"description": "bad spec"}})
def put_policy(name: str, body: PolicyIn, session: SessionDep, who: Admin) -> PolicyOut:
    """Store a named policy (metrics and step policy) for rollouts to refer to."""
    if name != body.name:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            f"name: '{clip(body.name)}' differs from the path",
        )
    data = body.model_dump(mode="json", exclude={"name"})
    try:
        parse_spec(data)
    except SpecError as err:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"spec: {err}") from None
    row = session.get(Policy, name)
    if row is None:
        row = Policy(name=name, body=data, created_by=who.name, created_at=time.time())
        session.add(row)
    else:
        row.body, row.created_by, row.created_at = data, who.name, time.time()
    audit.add_event(
        session=session, rollout_id=None, kind="policy", actor=who.name,
        reason=f"stored policy '{name}'", payload=data,
    )  # fmt: skip
    session.commit()
    return PolicyOut(name=name, **data, created_by=row.created_by, created_at=row.created_at)


@router.get("/policies/{name}", responses={404: {"description": "no such policy"}})
def get_policy(name: str, session: SessionDep, _: Viewer) -> PolicyOut:
    row = session.get(Policy, name)
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"name: no policy '{clip(name)}'")
    return PolicyOut(name=name, **row.body, created_by=row.created_by, created_at=row.created_at)
