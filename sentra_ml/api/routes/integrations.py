"""Sentra as the judge of other rollout controllers: Flagger webhooks, Argo's `web` provider.

These callers cannot always send a header, so a token may come as `?token=`, or the body may be
signed with the shared webhook secret (`X-Sentra-Signature: sha256=<hmac of the body>`).
"""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, status
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from sentra_ml.api.auth import (
    SIGNATURE_HEADER,
    Principal,
    bearer,
    check_role,
    signature_ok,
    unauthorized,
)
from sentra_ml.api.deps import ServicesDep, SessionDep, authenticate
from sentra_ml.api.gates import Hook, argo_more_traffic, argo_verdict, flagger_gate, verdict_age
from sentra_ml.api.schemas import ArgoAnswer, ArgoResult, FlaggerPayload, GateAnswer
from sentra_ml.spec import clip
from sentra_ml.store import audit
from sentra_ml.store.schema import Rollout
from sentra_ml.store.states import State
from sentra_ml.store.tokens import Role

router = APIRouter(prefix="/v1/integrations", tags=["integrations"])


async def integration_caller(request: Request, svc: ServicesDep) -> Principal:
    signature = request.headers.get(SIGNATURE_HEADER)
    if signature is not None and svc.settings.webhook_secret:
        if signature_ok(svc.settings.webhook_secret, await request.body(), signature):
            return Principal("webhook", Role.OPERATOR)
        raise unauthorized(f"{SIGNATURE_HEADER}: signature does not match the body")
    secret = bearer(request) or request.query_params.get("token")
    return check_role(authenticate(svc, secret), Role.VIEWER)


Caller = Annotated[Principal, Depends(integration_caller)]


def _find(session: Session, namespace: str, name: str, field: str) -> Rollout:
    """The newest rollout whose `namespace` and `service` are the caller's namespace and name;
    a 404 names the two fields searched and the values it looked for."""
    rollout = audit.find_for_target(session=session, namespace=namespace, service=name)
    if rollout is None:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND,
            f"{field}: no rollout with namespace '{clip(namespace)}' and service "
            f"'{clip(name)}'; register one with POST /v1/rollouts "
            f'{{"namespace": "{clip(namespace)}", "service": "{clip(name)}", ...}}',
        )
    return rollout


@router.post(
    "/flagger/{hook}",
    responses={
        200: {
            "model": GateAnswer,
            "description": "yes: Flagger proceeds (for `rollback`: roll back now)",
        },
        404: {"description": "no rollout registered for this canary (Flagger sees a failure)"},
        412: {
            "model": GateAnswer,
            "description": "no: Flagger waits, counts a failed check, or does not roll back; "
            "also when the verdict is older than the rollout's `stale_after_seconds`",
        },
    },
)
def flagger(
    hook: Hook, payload: FlaggerPayload, svc: ServicesDep, session: SessionDep, _: Caller
) -> JSONResponse:
    """Answer a Flagger webhook from the streaming verdict of `namespace/name`."""
    rollout = _find(session, payload.namespace, payload.name, "name")
    state = svc.live.state(rollout.id) or State(rollout.state)
    verdict = svc.live.latest(rollout.id)
    now, stale_after = time.time(), svc.specs.spec(rollout.id, rollout.spec).stale_after_seconds
    allowed, why = flagger_gate(hook, state, verdict, now=now, stale_after=stale_after)
    answer = GateAnswer(
        rollout_id=rollout.id,
        hook=hook.value,
        allowed=allowed,
        action=None if verdict is None else str(verdict["action"]),
        reason=why,
        age_seconds=verdict_age(verdict, now),
        detail=None if allowed else f"{hook.value}: {why}",
    )
    code = status.HTTP_200_OK if allowed else status.HTTP_412_PRECONDITION_FAILED
    return JSONResponse(answer.model_dump(), status_code=code)


@router.get("/argo/{namespace}/{rollout}", responses={404: {"description": "no such rollout"}})
def argo(
    namespace: str, rollout: str, svc: ServicesDep, session: SessionDep, _: Caller
) -> ArgoAnswer:
    """For an AnalysisTemplate `web` metric: `successCondition: result.verdict == "pass"`
    (`inconclusive` while the verdict is older than the rollout's `stale_after_seconds`)."""
    row = _find(session, namespace, rollout, "rollout")
    state = svc.live.state(row.id) or State(row.state)
    verdict = svc.live.latest(row.id)
    now, stale_after = time.time(), svc.specs.spec(row.id, row.spec).stale_after_seconds
    return ArgoAnswer(
        rollout_id=row.id,
        result=ArgoResult(
            verdict=argo_verdict(state, verdict, now=now, stale_after=stale_after),  # type: ignore[arg-type]
            more_traffic=argo_more_traffic(state, verdict, now=now, stale_after=stale_after),
            action=None if verdict is None else str(verdict["action"]),
            risk=None if verdict is None else verdict["risk"],
            score=None if verdict is None else verdict["score"],
            weight=None if verdict is None else verdict["weight"],
            state=state,
            reasons=[] if verdict is None else [str(r) for r in verdict["reasons"]],
            age_seconds=verdict_age(verdict, now),
        ),
    )
