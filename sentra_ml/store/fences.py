"""Fencing: every state write of a controller carries its lease's token, and the database
refuses a token older than the newest one it has seen. A replica that lost its lease (a GC
pause, a partition) while it still believes it holds it can therefore write nothing."""

from __future__ import annotations

from sqlalchemy.orm import Session

from sentra_ml.store.schema import Rollout


class LeaseLost(Exception):
    """A newer lease holder has written to the rollout: this replica must stop acting on it."""

    def __init__(self, rollout_id: str, token: int, newest: int) -> None:
        super().__init__(f"rollout {rollout_id}: fencing token {token} is older than {newest}")
        self.rollout_id = rollout_id
        self.newest = newest


def claim(*, session: Session, rollout_id: str, token: int) -> int | None:
    """Record `token` as the rollout's newest; the token it replaces (None if the rollout is
    gone). Raises LeaseLost when the database already holds a newer one: the bus lost its
    counter (a Redis restart), and the caller should lift the counter above `newest` and take
    the lease again."""
    rollout = session.get(Rollout, rollout_id, with_for_update=True)
    if rollout is None:
        return None
    if rollout.fence >= token:
        raise LeaseLost(rollout_id, token, rollout.fence)
    previous, rollout.fence = rollout.fence, token
    return previous


def locked(*, session: Session, rollout_id: str, token: int) -> Rollout | None:
    """The rollout, locked for this transaction, if `token` is still the newest."""
    rollout = session.get(Rollout, rollout_id, with_for_update=True, populate_existing=True)
    if rollout is None:
        return None
    if rollout.fence > token:
        raise LeaseLost(rollout_id, token, rollout.fence)
    return rollout
