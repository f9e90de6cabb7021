"""Leases on Redis: one controller replica acts on a rollout at a time.

A lease is `SET NX PX` on the rollout's lease key; taking it also increments the rollout's
fencing counter (one Lua script), and the token goes with every state write (see
`sentra_ml.store.fences`). A replica that stops renewing (killed, paused, cut off) loses the
lease after `ttl`; another takes over. A clean shutdown releases its leases at once.
"""

from __future__ import annotations

from dataclasses import dataclass

from sentra_ml.store import keys
from sentra_ml.store.bus import LEASE_RENEWED, NEW_LEASE_NOT_HELD, LeaseStore


@dataclass(frozen=True)
class Held:
    token: int  # the fencing token of this holding
    new: bool  # taken just now (the replica must rebuild its view of the rollout)


class Leases:
    """The leases of one replica (`owner`)."""

    def __init__(self, bus: LeaseStore, owner: str, ttl: float) -> None:
        self.bus = bus
        self.owner = owner
        self.ttl = ttl
        self._tokens: dict[str, int] = {}

    def hold(self, rollout_id: str) -> Held | None:
        """Take or renew the rollout's lease; None while another replica holds it."""
        got = self.bus.lease(keys.lease(rollout_id), keys.fence(rollout_id), self.owner, self.ttl)
        if got == NEW_LEASE_NOT_HELD:
            self._tokens.pop(rollout_id, None)
            return None
        if got == LEASE_RENEWED and rollout_id in self._tokens:
            return Held(self._tokens[rollout_id], new=False)
        if got == LEASE_RENEWED:  # ours on the bus but not in memory: start over cleanly
            self.release(rollout_id)
            return self.hold(rollout_id)
        self._tokens[rollout_id] = got
        return Held(got, new=True)

    def lift(self, rollout_id: str, above: int) -> None:
        """The database holds a newer token than the bus gave (Redis lost its counter): lift
        the counter and drop the lease, so that the next `hold` gets a valid token."""
        self.bus.raise_fence(keys.fence(rollout_id), above)
        self.release(rollout_id)

    def held(self) -> list[str]:
        return list(self._tokens)

    def drop(self, rollout_id: str) -> None:
        """Forget a lease another replica has taken (nothing to hand back)."""
        self._tokens.pop(rollout_id, None)

    def release(self, rollout_id: str) -> None:
        self._tokens.pop(rollout_id, None)
        self.bus.release(keys.lease(rollout_id), self.owner)

    def release_all(self) -> None:
        for rollout_id in self.held():
            try:
                self.release(rollout_id)
            except Exception:  # the bus may be away at shutdown; the lease then just expires
                self._tokens.pop(rollout_id, None)
