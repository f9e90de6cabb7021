"""The audit of a tick, written under the lease's fencing token: the verdict when it changed the
action or the weight, the state it led to, and the weight the router verified."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from sentra_ml.store import audit, fences, series
from sentra_ml.store.schema import Decision
from sentra_ml.store.states import State


@dataclass(frozen=True)
class Written:
    state: State
    messages: list[dict[str, Any]]


def last_recorded(sessions: Callable[[], Session], rollout_id: str) -> tuple[str, float] | None:
    """(action, weight) of the rollout's last recorded decision."""
    with sessions() as session:
        row = session.scalars(
            select(Decision)
            .where(Decision.rollout_id == rollout_id)
            .order_by(Decision.id.desc())
            .limit(1)
        ).first()
        return None if row is None else (row.action, row.weight)


def write(
    sessions: Callable[[], Session],
    *,
    rollout_id: str,
    token: int,
    verdict: dict[str, Any],
    decided: bool,
    started: State,
    state: State,
    reason: str,
    applied: float | None,
    event: tuple[str, str, dict[str, Any]] | None = None,
    points: Sequence[series.Point] = (),
) -> Written | None:
    """One transaction; None when the rollout is gone. `decided`: record the verdict as a
    decision; `points`: the tick's series. The state changes from `started` to `state` only if
    the database still holds `started`: a person's action taken since the tick began is kept,
    and the next tick plans from it. Raises LeaseLost for a stale token."""
    messages: list[dict[str, Any]] = []
    ts = float(verdict["ts"])
    if not decided and state is started and event is None and applied is None and not points:
        return Written(state, messages)  # nothing to write
    with sessions() as session, session.begin():
        rollout = fences.locked(session=session, rollout_id=rollout_id, token=token)
        if rollout is None:
            return None
        before = rollout.weight
        if applied is not None:
            rollout.applied_weight = applied
        if points:
            series.append(session=session, rollout_id=rollout_id, points=points)
        if decided:
            audit.record_decision(
                session=session,
                rollout=rollout,
                verdict=verdict,
                model_version=str(verdict.get("model") or audit.JUDGE_VERSION),
            )
        if rollout.weight != before:
            messages.append(
                {"type": "weight", "rollout_id": rollout_id, "weight": rollout.weight,
                 "previous_weight": before, "ts": ts}
            )  # fmt: skip
        if event is not None:
            kind, why, payload = event
            audit.add_event(
                session=session, rollout_id=rollout_id, kind=kind, actor="controller",
                reason=why, payload=payload, now=ts,
            )  # fmt: skip
        current = State(rollout.state)
        if state is not current and current is started:
            audit.change_state(
                session=session, rollout=rollout, state=state, actor="judge", reason=reason, now=ts
            )
            messages.append(
                {"type": "state", "rollout_id": rollout_id, "state": state.value,
                 "previous_state": current.value, "actor": "judge", "ts": ts}
            )  # fmt: skip
            current = state
    return Written(current, messages)
