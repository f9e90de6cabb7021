"""The bus: live fan-out (publish / subscribe), transient state with a TTL, telemetry logs and
fenced leases.

`InProcessBus` serves one process (the embedded default); `RedisBus` lets any number of API and
controller replicas share them. Both deliver to local subscribers through `Fanout`.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from typing import Any, Protocol

from sentra_ml.store.fanout import Fanout

NEW_LEASE_NOT_HELD = -1
LEASE_RENEWED = 0


class PubSub(Protocol):
    """Live fan-out: what is published reaches every subscriber of the channel, on any replica."""

    def publish(self, channel: str, message: dict[str, Any]) -> None: ...
    def subscribe(self, channel: str) -> AsyncIterator[dict[str, Any]]: ...


class KeyValue(Protocol):
    """Transient state: strings and hashes that expire after their TTL."""

    def put(self, key: str, value: str, ttl: float) -> None: ...
    def get(self, key: str) -> str | None: ...
    def put_if_owner(self, lease: str, owner: str, key: str, value: str, ttl: float) -> bool:
        """Store `key` only while `owner` holds `lease` (a fenced write); whether it did."""
        ...

    def put_newer(
        self, key: str, entries: Sequence[tuple[str, str, str]], ttl: float
    ) -> list[tuple[str, str] | None]:
        """In the hash `key`, store each (field, order, value) unless the field holds an order
        >= this one (orders compare as strings of one width); return each field's previous
        (order, value) or None. Atomic for the whole call."""
        ...


class LogStore(Protocol):
    """Append-only telemetry logs, each with an epoch that changes when the log begins anew."""

    def log_append(
        self, key: str, epoch_key: str, values: list[str], ttl: float,
        lease: tuple[str, str] | None = None,
    ) -> bool:  # fmt: skip
        """Append to the list `key`; a list created afresh gets a new epoch in `epoch_key`.
        With `lease` (key, owner), only while the owner holds it; whether it appended."""
        ...

    def log_read(self, key: str, epoch_key: str, start: int = 0) -> tuple[str | None, list[str]]:
        """The log's epoch and its entries from `start` on, read together."""
        ...


class LeaseStore(Protocol):
    """Fenced leases of rollouts, and the heartbeats of the replicas that take them."""

    def lease(self, key: str, fence_key: str, owner: str, ttl: float) -> int:
        """Take or renew `key` for `owner`: a new fencing token (> 0) when taken, 0 when renewed,
        -1 while another owner holds it."""
        ...

    def release(self, key: str, owner: str) -> bool: ...
    def raise_fence(self, fence_key: str, at_least: int) -> int:
        """Lift the fencing counter to `at_least` (never lower it); its value after."""
        ...

    def heartbeat(self, key: str, member: str, ttl: float) -> int:
        """Mark `member` alive for `ttl`; how many members are alive."""
        ...

    def leave(self, key: str, member: str) -> None:
        """Take `member` out of the heartbeats at once (a clean shutdown)."""
        ...


class Bus(PubSub, KeyValue, LogStore, LeaseStore, Protocol):
    """All four roles on one connection, as `InProcessBus` and `RedisBus` provide them; a user
    that needs one role should ask for that role."""

    def ping(self) -> bool: ...
    def close(self) -> None: ...


class InProcessBus:
    """Fan-out and TTL state inside one process."""

    def __init__(self) -> None:
        self._fanout = Fanout()
        self._lock = threading.Lock()
        self._values: dict[str, tuple[float, Any]] = {}

    def publish(self, channel: str, message: dict[str, Any]) -> None:
        self._fanout.deliver(channel, message)

    def subscribe(self, channel: str) -> AsyncIterator[dict[str, Any]]:
        return self._fanout.subscribe(channel)

    def put(self, key: str, value: str, ttl: float) -> None:
        with self._lock:
            self._set(key, value, ttl)

    def get(self, key: str) -> str | None:
        value = self._live(key)
        return value if isinstance(value, str) else None

    def put_if_owner(self, lease: str, owner: str, key: str, value: str, ttl: float) -> bool:
        with self._lock:
            if self._live_locked(lease) != owner:
                return False
            self._set(key, value, ttl)
            return True

    def log_append(
        self, key: str, epoch_key: str, values: list[str], ttl: float,
        lease: tuple[str, str] | None = None,
    ) -> bool:  # fmt: skip
        with self._lock:
            if lease is not None and self._live_locked(lease[0]) != lease[1]:
                return False
            current = self._live_locked(key)
            if not isinstance(current, list) or self._live_locked(epoch_key) is None:
                current = []
                self._set(epoch_key, uuid.uuid4().hex, ttl)
            current.extend(values)
            self._set(key, current, ttl)
            self._set(epoch_key, self._values[epoch_key][1], ttl)
            return True

    def log_read(self, key: str, epoch_key: str, start: int = 0) -> tuple[str | None, list[str]]:
        with self._lock:
            value = self._live_locked(key)
            epoch = self._live_locked(epoch_key)
            return epoch, list(value[start:]) if isinstance(value, list) else []

    def lease(self, key: str, fence_key: str, owner: str, ttl: float) -> int:
        with self._lock:
            holder = self._live_locked(key)
            if holder not in (None, owner):
                return NEW_LEASE_NOT_HELD
            self._set(key, owner, ttl)
            if holder == owner:
                return LEASE_RENEWED
            token = int(self._values.get(fence_key, (0.0, 0))[1]) + 1
            self._values[fence_key] = (float("inf"), token)
            return token

    def release(self, key: str, owner: str) -> bool:
        with self._lock:
            if self._live_locked(key) != owner:
                return False
            del self._values[key]
            return True

    def raise_fence(self, fence_key: str, at_least: int) -> int:
        with self._lock:
            token = max(int(self._values.get(fence_key, (0.0, 0))[1]), at_least)
            self._values[fence_key] = (float("inf"), token)
            return token

    def heartbeat(self, key: str, member: str, ttl: float) -> int:
        with self._lock:
            now = time.monotonic()
            current = self._live_locked(key)
            table: dict[str, float] = current if isinstance(current, dict) else {}
            table[member] = now + ttl
            alive = {m: until for m, until in table.items() if until > now}
            self._set(key, alive, ttl)
            return len(alive)

    def leave(self, key: str, member: str) -> None:
        with self._lock:
            table = self._live_locked(key)
            if isinstance(table, dict):
                table.pop(member, None)

    def put_newer(
        self, key: str, entries: Sequence[tuple[str, str, str]], ttl: float
    ) -> list[tuple[str, str] | None]:
        if not entries:
            return []
        with self._lock:
            current = self._live_locked(key)
            table: dict[str, tuple[str, str]] = current if isinstance(current, dict) else {}
            out: list[tuple[str, str] | None] = []
            for name, order, value in entries:
                out.append(table.get(name))
                if out[-1] is None or table[name][0] < order:
                    table[name] = (order, value)
            self._set(key, table, ttl)
            return out

    def ping(self) -> bool:
        return True

    def close(self) -> None:
        pass

    def _set(self, key: str, value: Any, ttl: float) -> None:
        self._values[key] = (time.monotonic() + ttl, value)

    def _live(self, key: str) -> Any:
        with self._lock:
            return self._live_locked(key)

    def _live_locked(self, key: str) -> Any:
        entry = self._values.get(key)
        if entry is None or entry[0] < time.monotonic():
            self._values.pop(key, None)
            return None
        return entry[1]


from sentra_ml.store.redis_bus import RedisBus  # noqa: E402  (re-exported: one import for both)

__all__ = ["Bus", "InProcessBus", "KeyValue", "LeaseStore", "LogStore", "PubSub", "RedisBus"]
