"""What API replicas read about a live rollout, and controllers write: its latest verdict and
state on the bus, and the messages of its streams.

Reads are cached for READ_CACHE_SECONDS, so readers on any replica cost the bus one lookup per
rollout per period, not one per request. Verdicts are written only by the holder of the
rollout's lease (a fenced write): a controller that lost its lease cannot overwrite them.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from typing import Any

from sentra_ml.store import keys
from sentra_ml.store.bus import Bus
from sentra_ml.store.states import State

READ_CACHE_SECONDS = 0.2
STATE_TTL = 30.0  # the database is the truth: a cached state missed by a write expires soon
_CACHE_LIMIT = 100_000  # entries; the cache is cleared and refills on demand beyond it

log = logging.getLogger(__name__)
Snapshot = tuple[State | None, str | None, float | None]  # state, verdict JSON, verdict ts


class LiveState:
    """Verdicts and states of live rollouts on one bus."""

    def __init__(self, bus: Bus) -> None:
        self.bus = bus
        self._reads: dict[str, tuple[float, State, str | None, float | None]] = {}
        self._lock = threading.Lock()

    def latest(self, rollout_id: str) -> dict[str, Any] | None:
        """The rollout's newest verdict, or None before the first one."""
        raw = self.bus.get(keys.verdict(rollout_id))
        return None if raw is None else dict(json.loads(raw))

    def cached(self, rollout_id: str) -> Snapshot | None:
        """The cached snapshot if fresh; never touches the bus (for the event loop)."""
        hit = self._reads.get(rollout_id)
        return None if hit is None or hit[0] <= time.monotonic() else hit[1:]

    def snapshot(self, rollout_id: str) -> Snapshot:
        """(state, verdict as JSON, the verdict's ts), at most READ_CACHE_SECONDS old; state
        None when unknown."""
        now = time.monotonic()
        hit = self._reads.get(rollout_id)
        if hit is not None and hit[0] > now:
            return hit[1:]
        state = self.state(rollout_id)
        raw = self.bus.get(keys.verdict(rollout_id))
        ts = None if raw is None else float(json.loads(raw)["ts"])
        if state is not None:
            with self._lock:
                if len(self._reads) > _CACHE_LIMIT:
                    self._reads.clear()
                self._reads[rollout_id] = (now + READ_CACHE_SECONDS, state, raw, ts)
        return state, raw, ts

    def state(self, rollout_id: str) -> State | None:
        raw = self.bus.get(keys.state(rollout_id))
        return None if raw is None else State(raw)

    def set_state(self, rollout_id: str, state: State) -> None:
        """Cache the state the database holds now (the database stays the truth)."""
        self.bus.put(keys.state(rollout_id), state.value, STATE_TTL)
        self._reads.pop(rollout_id, None)

    def after_commit(self, rollout_id: str, state: State, message: dict[str, Any]) -> None:
        """Cache the committed state and announce it, as far as the bus allows: the change is
        in the database already, so a bus outage must not turn it into an error (the cache
        expires within STATE_TTL and controllers refresh it every tick)."""
        try:
            self.set_state(rollout_id, state)
            self.announce(rollout_id, message)
        except Exception as err:  # the bus is away; readers fall back to the database
            self._reads.pop(rollout_id, None)
            log.warning(
                "rollout %s: state %s saved, not yet on the bus: %s", rollout_id, state, err
            )

    def put_verdict(self, rollout_id: str, owner: str, verdict: dict[str, Any]) -> bool:
        """Store the verdict if `owner` holds the rollout's lease; whether it did."""
        stored = self.bus.put_if_owner(
            keys.lease(rollout_id), owner, keys.verdict(rollout_id), json.dumps(verdict),
            keys.VERDICT_TTL,
        )  # fmt: skip
        self._reads.pop(rollout_id, None)
        return stored

    def amend_verdict(self, rollout_id: str, verdict: dict[str, Any]) -> None:
        """Replace the stored verdict with the same verdict carrying more (trace links found
        after the rollout ended, when no lease is held any more)."""
        self.bus.put(keys.verdict(rollout_id), json.dumps(verdict), keys.VERDICT_TTL)
        self._reads.pop(rollout_id, None)

    def announce(self, rollout_id: str, message: dict[str, Any]) -> None:
        """Publish to the rollout's subscribers and to those of every rollout."""
        self.bus.publish(keys.rollout_events(rollout_id), message)
        self.bus.publish(keys.EVENTS, message)
