"""The ledger of router weight changes: intent before the call, outcome after verification."""

from __future__ import annotations

import time
from collections.abc import Sequence
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from sentra_ml.store.schema import WeightChange


class ChangeStatus(StrEnum):
    INTENDED = "intended"  # written before the router call; the outcome is not known yet
    APPLIED = "applied"  # the router took it and verification found it in force
    REJECTED = "rejected"  # refused (by Sentra's checks or the backend): never in force
    FAILED = "failed"  # the call failed; the router was read back with the old weights
    MISMATCH = "mismatch"  # the router answered, but reads back other weights
    ABANDONED = "abandoned"  # after a crash: the router never took it
    RECONCILED = "reconciled"  # after a crash: the router holds it, so it was applied


REACHED = frozenset({ChangeStatus.APPLIED, ChangeStatus.RECONCILED})


def intend(
    *, session: Session, rollout_id: str, fence: int, ts: float, weight: float,
    previous: float | None,
) -> WeightChange:  # fmt: skip
    change = WeightChange(
        rollout_id=rollout_id, fence=fence, ts=ts, weight=weight, previous_weight=previous,
        status=ChangeStatus.INTENDED.value, detail="",
    )  # fmt: skip
    session.add(change)
    session.flush()
    return change


def settle(change: WeightChange, status: ChangeStatus, detail: str = "") -> None:
    change.status = status.value
    change.detail = detail[:2000]
    change.settled_at = time.time()


def unsettled(*, session: Session, rollout_id: str) -> Sequence[WeightChange]:
    """Intents whose outcome was never written (the controller died during the call)."""
    return session.scalars(
        select(WeightChange)
        .where(
            WeightChange.rollout_id == rollout_id,
            WeightChange.status == ChangeStatus.INTENDED.value,
        )
        .order_by(WeightChange.id)
    ).all()


def reached(*, session: Session, rollout_id: str) -> Sequence[WeightChange]:
    """The changes in force at some time, oldest first: the judge replays them on takeover."""
    return session.scalars(
        select(WeightChange)
        .where(
            WeightChange.rollout_id == rollout_id,
            WeightChange.status.in_([s.value for s in REACHED]),
        )
        .order_by(WeightChange.id)
    ).all()


def history(*, session: Session, rollout_id: str) -> Sequence[WeightChange]:
    return session.scalars(
        select(WeightChange).where(WeightChange.rollout_id == rollout_id).order_by(WeightChange.id)
    ).all()
