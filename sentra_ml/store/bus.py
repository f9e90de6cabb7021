"""The bus: live fan-out (publish / subscribe) and transient state with a TTL.

`InProcessBus` serves one process (the embedded default); `RedisBus` lets any number of API
replicas share live updates and state. Both deliver to local subscribers through `Fanout`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Sequence
from typing import Any, Protocol

ALL = "sentra:events"


def rollout_channel(rollout_id: str) -> str:
    return f"sentra:rollout:{rollout_id}"


class Bus(Protocol):
    def publish(self, channel: str, message: dict[str, Any]) -> None: ...
    def subscribe(self, channel: str) -> AsyncIterator[dict[str, Any]]: ...
    def put(self, key: str, value: str, ttl: float) -> None: ...
    def get(self, key: str) -> str | None: ...
    def append(self, key: str, values: list[str], ttl: float) -> None: ...
    def read_list(self, key: str, start: int = 0) -> list[str]: ...
    def lease(self, key: str, owner: str, ttl: float) -> bool: ...
    def put_newer(
        self, key: str, entries: Sequence[tuple[str, str, str]], ttl: float
    ) -> list[tuple[str, str] | None]: ...
    def ping(self) -> bool: ...
    def close(self) -> None: ...


class Fanout:
    """Delivers messages to this process's subscribers; safe to call from any thread.

    Each subscriber has a bounded queue: a client too slow to read loses the oldest messages
    rather than growing the server's memory.
    """

    def __init__(self, queue_size: int = 1000) -> None:
        self._queue_size = queue_size
        self._lock = threading.Lock()
        self._subs: dict[str, set[tuple[asyncio.AbstractEventLoop, asyncio.Queue[Any]]]] = (
            defaultdict(set)
        )

    def deliver(self, channel: str, message: dict[str, Any]) -> None:
        with self._lock:
            targets = list(self._subs.get(channel, ()))
        for loop, queue in targets:
            with contextlib.suppress(RuntimeError):  # the subscriber's loop has closed
                loop.call_soon_threadsafe(_offer, queue, message)

    async def subscribe(self, channel: str) -> AsyncIterator[dict[str, Any]]:
        entry = (asyncio.get_running_loop(), asyncio.Queue[Any](self._queue_size))
        with self._lock:
            self._subs[channel].add(entry)
        try:
            while True:
                yield await entry[1].get()
        finally:
            with self._lock:
                self._subs[channel].discard(entry)


def _offer(queue: asyncio.Queue[Any], message: dict[str, Any]) -> None:
    if queue.full():
        queue.get_nowait()
    queue.put_nowait(message)


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
            self._values[key] = (time.monotonic() + ttl, value)

    def get(self, key: str) -> str | None:
        value = self._live(key)
        return value if isinstance(value, str) else None

    def append(self, key: str, values: list[str], ttl: float) -> None:
        with self._lock:
            current = self._live_locked(key)
            items = current if isinstance(current, list) else []
            items.extend(values)
            self._values[key] = (time.monotonic() + ttl, items)

    def read_list(self, key: str, start: int = 0) -> list[str]:
        value = self._live(key)
        return list(value[start:]) if isinstance(value, list) else []

    def lease(self, key: str, owner: str, ttl: float) -> bool:
        with self._lock:
            holder = self._live_locked(key)
            if holder not in (None, owner):
                return False
            self._values[key] = (time.monotonic() + ttl, owner)
            return True

    def put_newer(
        self, key: str, entries: Sequence[tuple[str, str, str]], ttl: float
    ) -> list[tuple[str, str] | None]:
        """In the hash `key`, store each (field, order, value) unless the field holds an order
        >= this one (orders compare as strings of one width); return each field's previous
        (order, value) or None. Atomic for the whole call."""
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
            self._values[key] = (time.monotonic() + ttl, table)
            return out

    def ping(self) -> bool:
        return True

    def close(self) -> None:
        pass

    def _live(self, key: str) -> Any:
        with self._lock:
            return self._live_locked(key)

    def _live_locked(self, key: str) -> Any:
        entry = self._values.get(key)
        if entry is None or entry[0] < time.monotonic():
            self._values.pop(key, None)
            return None
        return entry[1]


_RENEW = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('pexpire', KEYS[1], ARGV[2])
end
return 0
"""

_PUT_NEWER = """
local out = {}
for i = 2, #ARGV, 3 do
  local previous = redis.call('hget', KEYS[1], ARGV[i])
  out[#out + 1] = previous or false
  if (not previous) or string.sub(previous, 1, #ARGV[i + 1]) < ARGV[i + 1] then
    redis.call('hset', KEYS[1], ARGV[i], ARGV[i + 1] .. ' ' .. ARGV[i + 2])
  end
end
redis.call('pexpire', KEYS[1], ARGV[1])
return out
"""


class RedisBus:
    """Redis pub/sub and keys. One listener thread per process feeds the local fan-out, so a
    thousand WebSocket clients cost one Redis connection, not a thousand."""

    def __init__(self, url: str) -> None:
        import redis

        self._redis = redis.Redis.from_url(url, decode_responses=True, socket_timeout=5)
        self._fanout = Fanout()
        self._stop = threading.Event()
        self._listener: threading.Thread | None = None
        self._listener_lock = threading.Lock()

    def publish(self, channel: str, message: dict[str, Any]) -> None:
        self._redis.publish(channel, json.dumps(message))

    def subscribe(self, channel: str) -> AsyncIterator[dict[str, Any]]:
        self._ensure_listener()
        return self._fanout.subscribe(channel)

    def put(self, key: str, value: str, ttl: float) -> None:
        self._redis.set(key, value, px=max(1, int(ttl * 1000)))

    def get(self, key: str) -> str | None:
        value = self._redis.get(key)
        return value if isinstance(value, str) else None

    def append(self, key: str, values: list[str], ttl: float) -> None:
        if not values:
            return
        with self._redis.pipeline(transaction=True) as pipe:
            pipe.rpush(key, *values)
            pipe.pexpire(key, max(1, int(ttl * 1000)))
            pipe.execute()

    def read_list(self, key: str, start: int = 0) -> list[str]:
        return list(self._redis.lrange(key, start, -1))  # type: ignore[arg-type]

    def lease(self, key: str, owner: str, ttl: float) -> bool:
        """Take or renew `key` for `owner`; False while another owner holds it."""
        ms = max(1, int(ttl * 1000))
        if self._redis.set(key, owner, nx=True, px=ms):
            return True
        # renew only our own lease, atomically
        renewed = self._redis.eval(_RENEW, 1, key, owner, ms)
        return bool(renewed)

    def put_newer(
        self, key: str, entries: Sequence[tuple[str, str, str]], ttl: float
    ) -> list[tuple[str, str] | None]:
        """As InProcessBus.put_newer, in one Lua script (orders must hold no space)."""
        if not entries:
            return []
        args = [str(max(1, int(ttl * 1000)))] + [x for entry in entries for x in entry]
        raw = self._redis.eval(_PUT_NEWER, 1, key, *args)
        return [None if r is None else tuple(r.split(" ", 1)) for r in raw]

    def ping(self) -> bool:
        try:
            return bool(self._redis.ping())
        except Exception:  # any failure means "not ready"; the reason is not the probe's business
            return False

    def close(self) -> None:
        self._stop.set()
        if self._listener is not None:
            self._listener.join(timeout=3)
        self._redis.close()

    def _ensure_listener(self) -> None:
        with self._listener_lock:
            if self._listener is None or not self._listener.is_alive():
                self._listener = threading.Thread(target=self._listen, daemon=True)
                self._listener.start()

    def _listen(self) -> None:
        pubsub = None
        while not self._stop.is_set():
            try:
                if pubsub is None:
                    pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
                    pubsub.psubscribe("sentra:*")
                message = pubsub.get_message(timeout=1.0)
                if message is not None and message.get("type") == "pmessage":
                    self._fanout.deliver(message["channel"], json.loads(message["data"]))
            except Exception:  # Redis went away: reconnect after a pause, keep serving
                pubsub = None
                self._stop.wait(1.0)
        if pubsub is not None:
            pubsub.close()
