"""Rollouts: create, list, read; push telemetry; read the streaming verdict; manual actions;
the audit trail."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Response, status
from sentra_adapters.telemetry.registry import sources
from sentra_adapters.traffic.registry import routers
from sqlalchemy.orm import Session

from sentra_ml.analysis.types.errors import SampleError, SpecError
from sentra_ml.analysis.types.labels import Action
from sentra_ml.api import trace_config
from sentra_ml.api.checks import check_lines
from sentra_ml.api.deps import Operator, Services, ServicesDep, SessionDep, Viewer, ViewerFast
from sentra_ml.api.schemas import (
    ActionIn,
    CurrentVerdict,
    EventOut,
    EventPage,
    IngestResult,
    RolloutCreate,
    RolloutOut,
    RolloutPage,
    TelemetryBatch,
)
from sentra_ml.spec import clip, parse_spec
from sentra_ml.store import audit, telemetry_log
from sentra_ml.store.schema import Policy, Rollout
from sentra_ml.store.states import TERMINAL, ManualAction, State, TransitionError, after_action

router = APIRouter(prefix="/v1/rollouts", tags=["rollouts"])
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "no rollout with this id"}}
UNPROCESSABLE = status.HTTP_422_UNPROCESSABLE_CONTENT


def load(session: Session, rollout_id: str) -> Rollout:
    rollout = session.get(Rollout, rollout_id)
    if rollout is None:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND, f"rollout_id: no rollout '{clip(rollout_id)}'"
        )
    return rollout


def out(rollout: Rollout) -> RolloutOut:
    return RolloutOut.model_validate(rollout, from_attributes=True)


def _spec_body(body: RolloutCreate, session: Session) -> dict[str, Any]:
    """The full spec: the stored policy (if named) with the body's fields on top."""
    spec: dict[str, Any] = {"service": body.service}
    if body.policy_name is not None:
        policy = session.get(Policy, body.policy_name)
        if policy is None:
            raise HTTPException(UNPROCESSABLE, f"policy_name: no policy '{clip(body.policy_name)}'")
        spec.update(policy.body)
    if body.metrics is not None:
        spec["metrics"] = [m.model_dump(mode="json") for m in body.metrics]
    if body.policy is not None:
        spec["policy"] = body.policy.model_dump(mode="json")
    for name in ("alpha", "stale_after_seconds", "grace_seconds", "min_score", "interval_seconds"):
        value = getattr(body, name)
        if value is not None:
            spec[name] = value
    return spec


@router.post("", status_code=status.HTTP_201_CREATED, responses={422: {"description": "bad spec"}})
def create(body: RolloutCreate, svc: ServicesDep, session: SessionDep, who: Operator) -> RolloutOut:
    """Start judging a rollout (state `running`, weight at the policy's first step)."""
    spec_body = _spec_body(body, session)
    try:
        spec = parse_spec(spec_body)  # valid once it exists: the judge takes any RolloutSpec
    except SpecError as err:
        raise HTTPException(UNPROCESSABLE, f"spec: {err}") from None
    for field, config, registry in (
        ("target", body.target, routers),
        ("source", body.source, sources),
    ):
        if config is not None and config.get("kind") not in registry.kinds():
            known = ", ".join(registry.kinds())
            raise HTTPException(UNPROCESSABLE, f"{field}.kind: must be one of {known}")
    tempo = None if body.traces is None else body.traces.model_dump()
    if tempo is not None:
        try:
            trace_config.check(tempo, spec)
        except ValueError as err:
            raise HTTPException(UNPROCESSABLE, str(err)) from None
    rollout = audit.create_rollout(
        session=session,
        service=body.service,
        namespace=body.namespace,
        baseline_version=body.baseline_version,
        canary_version=body.canary_version,
        spec=spec_body,
        weight=spec.policy.steps[0],
        target=body.target,
        source=body.source,
        traces=tempo,
        actor=who.name,
    )
    session.commit()
    message = {
        "type": "state", "rollout_id": rollout.id, "state": rollout.state, "actor": who.name
    }  # fmt: skip
    svc.live.after_commit(rollout.id, State(rollout.state), message)
    return out(rollout)


@router.get("")
def list_(
    session: SessionDep,
    _: Viewer,
    service: str | None = None,
    state: State | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> RolloutPage:
    """Rollouts, newest first, filtered by service and state."""
    page, total = audit.list_rollouts(
        session=session, service=service, state=state, limit=limit, offset=offset
    )
    return RolloutPage(items=[out(r) for r in page], total=total, limit=limit, offset=offset)


@router.get("/{rollout_id}", responses=NOT_FOUND)
def get(rollout_id: str, session: SessionDep, _: Viewer) -> RolloutOut:
    return out(load(session, rollout_id))


@router.post(
    "/{rollout_id}/telemetry",
    status_code=status.HTTP_202_ACCEPTED,
    responses={**NOT_FOUND, 409: {"description": "the rollout is over"}},
)
def push_telemetry(
    rollout_id: str, body: TelemetryBatch, svc: ServicesDep, session: SessionDep, _: Operator
) -> IngestResult:
    """Add samples (a batch is taken whole or refused whole); judged within one interval."""
    rollout = load(session, rollout_id)
    if State(rollout.state) in TERMINAL:
        raise HTTPException(
            status.HTTP_409_CONFLICT, f"rollout is {rollout.state}: telemetry is no longer taken"
        )
    try:
        check_lines(svc.specs.spec(rollout_id, rollout.spec), body.lines, time.time())
    except SampleError as err:
        raise HTTPException(UNPROCESSABLE, str(err)) from None
    telemetry_log.append(svc.bus, rollout_id, body.lines)
    svc.metrics.ingested.inc(len(body.lines))
    return IngestResult(accepted=len(body.lines))


@router.get("/{rollout_id}/verdict", response_model=CurrentVerdict, responses=NOT_FOUND)
async def verdict(rollout_id: str, svc: ServicesDep, _: ViewerFast) -> Response:
    """The latest streaming verdict (null before the first evaluation)."""
    # the hot read path: no I/O on the event loop, no thread hop while the rollout is cached
    hit = svc.live.cached(rollout_id)
    state, raw, ts = (
        hit if hit is not None else await asyncio.to_thread(svc.live.snapshot, rollout_id)
    )
    if state is None:
        state = await asyncio.to_thread(_state_from_database, svc, rollout_id)
    age = "null" if ts is None else f"{max(0.0, time.time() - ts):.3f}"
    body = (
        f'{{"rollout_id":{json.dumps(rollout_id)},"state":"{state}",'
        f'"age_seconds":{age},"verdict":{raw or "null"}}}'
    )
    return Response(body, media_type="application/json")


def _state_from_database(svc: Services, rollout_id: str) -> State:
    with svc.sessions() as session:
        state = State(load(session, rollout_id).state)
    svc.live.set_state(rollout_id, state)
    return state


@router.post(
    "/{rollout_id}/actions",
    responses={**NOT_FOUND, 409: {"description": "not allowed in the rollout's state"}},
)
def act(
    rollout_id: str, body: ActionIn, svc: ServicesDep, session: SessionDep, who: Operator
) -> RolloutOut:
    """Pause, resume, promote or abort by hand; recorded with who did it and why."""
    now = time.time()
    with session.begin():
        rollout = session.get(Rollout, rollout_id, with_for_update=True)
        if rollout is None:
            raise HTTPException(
                status.HTTP_404_NOT_FOUND, f"rollout_id: no rollout '{clip(rollout_id)}'"
            )
        previous = State(rollout.state)
        routed = rollout.target is not None
        try:
            target = after_action(previous, body.action, routed=routed)
        except TransitionError as err:
            raise HTTPException(status.HTTP_409_CONFLICT, f"action: {err}") from None
        if body.action in (ManualAction.PROMOTE, ManualAction.ABORT) and not routed:
            _record_manual(session, rollout, body, who.name, now, svc.live.latest(rollout_id))
        if body.action is ManualAction.ABORT and routed:
            rollout.ending = State.ABORTED.value  # the controller ends it once traffic is back
        audit.change_state(
            session=session,
            rollout=rollout,
            state=target,
            actor=who.name,
            reason=f"{body.action}: {body.reason}",
            now=now,
        )
    message = {
        "type": "state", "rollout_id": rollout_id, "state": target.value,
        "previous_state": previous.value, "actor": who.name, "reason": body.reason, "ts": now,
    }  # fmt: skip
    svc.live.after_commit(rollout_id, target, message)
    return out(rollout)


def _record_manual(
    session: Session,
    rollout: Rollout,
    body: ActionIn,
    actor: str,
    now: float,
    latest: dict[str, Any] | None,
) -> None:
    """A manual promote or abort is a decision too: it goes into the audit with its evidence."""
    promote = body.action is ManualAction.PROMOTE
    verdict = {
        "ts": now,
        "action": Action.PROMOTE if promote else Action.ROLLBACK,
        "risk": (latest or {}).get("risk", 0.0),
        "weight": 100.0 if promote else 0.0,
        "score": (latest or {}).get("score"),
        "reasons": [f"manual {body.action} by {actor}: {body.reason}"],
        "manual": True,
        "judge_verdict": latest,
    }
    audit.record_decision(
        session=session, rollout=rollout, verdict=verdict, model_version="manual", actor=actor
    )


@router.get("/{rollout_id}/events", responses=NOT_FOUND)
def events(
    rollout_id: str,
    session: SessionDep,
    _: Viewer,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> EventPage:
    """The audit trail, oldest first; decision events carry the full verdict."""
    load(session, rollout_id)
    rows = audit.list_events(session=session, rollout_id=rollout_id, limit=limit, offset=offset)
    items = [
        EventOut(
            id=e.id,
            ts=e.ts,
            kind=e.kind,
            actor=e.actor,
            reason=e.reason,
            payload=e.payload,
            decision=None
            if d is None
            else {
                "id": d.id,
                "action": d.action,
                "weight": d.weight,
                "risk": d.risk,
                "score": d.score,
                "model_version": d.model_version,
                "verdict": d.verdict,
            },
        )
        for e, d in rows
    ]
    return EventPage(items=items, limit=limit, offset=offset)
