"""Weights through the rollout's traffic router, exactly once.

Every change is written as an intent, with the lease's fencing token, before the router is
called, and settled after verification. After a kill at any instant, `reconcile` compares an
unsettled intent with what the router reads back: the router holds it (it was applied) or does
not (it never was), so no step is applied twice or lost. A weight the router could not reach
(refused, read back otherwise, finer than it can split) is never recorded as reached.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from sentra_adapters.errors import AdapterError, Rejected
from sentra_adapters.traffic.base import TrafficRouter, Verification
from sqlalchemy.orm import Session, sessionmaker

from sentra_ml.analysis.types.labels import Cohort
from sentra_ml.store import fences
from sentra_ml.store import weight_changes as ledger
from sentra_ml.store.schema import WeightChange
from sentra_ml.store.weight_changes import ChangeStatus

log = logging.getLogger(__name__)


class Outcome(StrEnum):
    APPLIED = "applied"  # in force, verified (or read back, where the backend cannot verify)
    REJECTED = "rejected"  # refused: retrying the same weights would be refused again
    FAILED = "failed"  # the call or the verification failed: retry later
    MISMATCH = "mismatch"  # the backend holds other weights than asked for


@dataclass(frozen=True)
class Applied:
    outcome: Outcome
    weight: float  # the canary percent asked for
    detail: str = ""
    verification: str = ""

    @property
    def reached(self) -> bool:
        return self.outcome is Outcome.APPLIED


def split(canary: float) -> dict[str, float]:
    return {"baseline": 100.0 - canary, "canary": canary}


class WeightApplier:
    """Applies canary weights of one rollout through its router, with a ledger entry each."""

    def __init__(
        self,
        router: TrafficRouter,
        sessions: sessionmaker[Session] | Callable[[], Session],
        rollout_id: str,
    ) -> None:
        self.router = router
        self.sessions = sessions
        self.rollout_id = rollout_id

    def apply(self, canary: float, *, token: int, ts: float, previous: float | None) -> Applied:
        """Intent, router call, verification, outcome. Raises LeaseLost before any router call
        when a newer lease holder exists."""
        with self.sessions() as session, session.begin():
            if fences.locked(session=session, rollout_id=self.rollout_id, token=token) is None:
                return Applied(Outcome.REJECTED, canary, "the rollout no longer exists")
            change_id = ledger.intend(
                session=session, rollout_id=self.rollout_id, fence=token, ts=ts, weight=canary,
                previous=previous,
            ).id  # fmt: skip
        result = self._call(canary)
        status = {
            Outcome.APPLIED: ChangeStatus.APPLIED,
            Outcome.REJECTED: ChangeStatus.REJECTED,
            Outcome.FAILED: ChangeStatus.FAILED,
            Outcome.MISMATCH: ChangeStatus.MISMATCH,
        }[result.outcome]
        if result.outcome is Outcome.FAILED and not self._holds(previous):
            # the call failed, and the router does not show the old weights either: leave the
            # intent open, so that the next takeover or tick reconciles it with the router
            return result
        self._settle(change_id, status, result.detail or result.verification)
        return result

    def reconcile(self) -> float | None:
        """Settle intents a crash left open against the router; the canary weight in force,
        or None when the router cannot be read (try again later)."""
        try:
            held = self.router.get_weights()
        except Exception as err:
            log.warning("rollout %s: cannot read the router to reconcile: %s", self.rollout_id, err)
            return None
        in_force = held[Cohort.CANARY]
        with self.sessions() as session, session.begin():
            for change in ledger.unsettled(session=session, rollout_id=self.rollout_id):
                took = abs(change.weight - in_force) <= self.router.resolution / 2
                ledger.settle(
                    change,
                    ChangeStatus.RECONCILED if took else ChangeStatus.ABANDONED,
                    f"after a restart the router reads back canary {in_force:g} %",
                )
        return in_force

    def _call(self, canary: float) -> Applied:
        weights = split(canary)
        try:
            self.router.set_weights(weights)
        except Rejected as err:
            return Applied(Outcome.REJECTED, canary, str(err))
        except AdapterError as err:
            return Applied(Outcome.FAILED, canary, str(err))
        except Exception as err:  # a bug in a router must not stop the rollout's fail-safe
            log.exception("rollout %s: router failed", self.rollout_id)
            return Applied(Outcome.FAILED, canary, f"internal error: {type(err).__name__}")
        try:
            verification = self.router.verify(weights)
        except Exception as err:
            return Applied(Outcome.FAILED, canary, f"set, but not verifiable: {err}")
        if verification is Verification.MISMATCH:
            return Applied(Outcome.MISMATCH, canary, "the router reads back other weights")
        return Applied(Outcome.APPLIED, canary, verification=str(verification))

    def _holds(self, canary: float | None) -> bool:
        """Whether the router reads back `canary` (None: nothing was ever applied)."""
        try:
            held = self.router.get_weights()[Cohort.CANARY]
        except Exception:  # unreadable: the intent stays open for reconciliation
            return False
        return canary is not None and abs(held - canary) <= self.router.resolution / 2

    def _settle(self, change_id: int, status: ChangeStatus, detail: str) -> None:
        with self.sessions() as session, session.begin():
            change = session.get(WeightChange, change_id)
            if change is not None:
                ledger.settle(change, status, detail)
