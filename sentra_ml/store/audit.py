"""Rollouts, their decisions and their audit trail. Keyword-only functions; the caller owns the
session and the transaction, so one API call writes everything or nothing."""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from importlib.metadata import version
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sentra_ml.store.schema import Decision, Event, Rollout, Step
from sentra_ml.store.states import ACTIVE, State

# what a decision names as its decider when no registered model took part
JUDGE_VERSION = f"sentra-judge {version('sentra-ml')}"


def create_rollout(
    *,
    session: Session,
    service: str,
    namespace: str,
    baseline_version: str,
    canary_version: str,
    spec: dict[str, Any],
    weight: float,
    target: dict[str, Any] | None,
    source: dict[str, Any] | None,
    actor: str,
    now: float | None = None,
    traces: dict[str, Any] | None = None,
) -> Rollout:
    now = time.time() if now is None else now
    rollout = Rollout(
        id=uuid.uuid4().hex,
        service=service,
        namespace=namespace,
        baseline_version=baseline_version,
        canary_version=canary_version,
        # a rollout with a target waits for the controller to apply its first weights
        state=(State.PENDING if target is not None else State.RUNNING).value,
        weight=weight,
        spec=spec,
        target=target,
        source=source,
        traces=traces,
        created_by=actor,
        created_at=now,
        updated_at=now,
    )
    session.add(rollout)
    session.flush()
    add_event(
        session=session,
        rollout_id=rollout.id,
        kind="created",
        actor=actor,
        reason=f"{service}: {baseline_version} -> {canary_version}",
        payload={"weight": weight},
        now=now,
    )
    return rollout


def add_event(
    *,
    session: Session,
    rollout_id: str | None,
    kind: str,
    actor: str,
    reason: str,
    payload: dict[str, Any],
    decision_id: int | None = None,
    now: float | None = None,
) -> Event:
    event = Event(
        rollout_id=rollout_id,
        ts=time.time() if now is None else now,
        kind=kind,
        actor=actor,
        reason=reason,
        payload=payload,
        decision_id=decision_id,
    )
    session.add(event)
    return event


def change_state(
    *, session: Session, rollout: Rollout, state: State, actor: str, reason: str, now: float
) -> None:
    previous = rollout.state
    rollout.state = state.value
    rollout.updated_at = now
    add_event(
        session=session,
        rollout_id=rollout.id,
        kind="state",
        actor=actor,
        reason=reason,
        payload={"from": previous, "to": state.value},
        now=now,
    )


def record_decision(
    *,
    session: Session,
    rollout: Rollout,
    verdict: dict[str, Any],
    model_version: str,
    actor: str = "judge",
) -> Decision:
    """Append a verdict that changed the action or the weight; a weight change is also a step."""
    now = float(verdict["ts"])
    decision = Decision(
        rollout_id=rollout.id,
        ts=now,
        action=str(verdict["action"]),
        risk=float(verdict["risk"]),
        weight=float(verdict["weight"]),
        score=None if verdict.get("score") is None else float(verdict["score"]),
        verdict=verdict,
        model_version=model_version,
    )
    session.add(decision)
    session.flush()
    if decision.weight != rollout.weight:
        session.add(
            Step(
                rollout_id=rollout.id,
                ts=now,
                weight=decision.weight,
                previous_weight=rollout.weight,
            )
        )
        rollout.weight = decision.weight
    rollout.updated_at = now
    reasons = verdict.get("reasons") or []
    add_event(
        session=session,
        rollout_id=rollout.id,
        kind="decision",
        actor=actor,
        reason="; ".join(str(r) for r in reasons)[:2000] or str(verdict["action"]),
        payload={"action": decision.action, "weight": decision.weight, "risk": decision.risk},
        decision_id=decision.id,
        now=now,
    )
    return decision


def list_rollouts(
    *,
    session: Session,
    service: str | None,
    state: State | None,
    limit: int,
    offset: int,
) -> tuple[Sequence[Rollout], int]:
    """A page of rollouts, newest first, and the total count of the filter."""
    query = select(Rollout)
    if service is not None:
        query = query.where(Rollout.service == service)
    if state is not None:
        query = query.where(Rollout.state == state.value)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    page = session.scalars(
        query.order_by(Rollout.created_at.desc(), Rollout.id).limit(limit).offset(offset)
    ).all()
    return page, total


def find_for_target(*, session: Session, namespace: str, service: str) -> Rollout | None:
    """The newest rollout of `namespace/service` (how Flagger and Argo name a canary)."""
    return session.scalars(
        select(Rollout)
        .where(Rollout.namespace == namespace, Rollout.service == service)
        .order_by(Rollout.created_at.desc())
        .limit(1)
    ).first()


def active_rollouts(*, session: Session) -> Sequence[Rollout]:
    return session.scalars(
        select(Rollout).where(Rollout.state.in_(sorted(s.value for s in ACTIVE)))
    ).all()


def list_events(
    *, session: Session, rollout_id: str, limit: int, offset: int
) -> Sequence[tuple[Event, Decision | None]]:
    """The audit trail in order, each decision event with its decision (evidence)."""
    rows = session.execute(
        select(Event, Decision)
        .outerjoin(Decision, Event.decision_id == Decision.id)
        .where(Event.rollout_id == rollout_id)
        .order_by(Event.id)
        .limit(limit)
        .offset(offset)
    ).all()
    return [(e, d) for e, d in rows]
