"""The bus on Redis: pub/sub, keys with a TTL, telemetry logs and fenced leases (Lua scripts, so
each operation is atomic). A rollout's keys share the hash tag `{rollout id}`: on Redis Cluster
every script touches one slot."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import AsyncIterator, Sequence
from typing import Any

from sentra_ml.store import keys
from sentra_ml.store.fanout import Fanout

_LEASE = """
if redis.call('set', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return redis.call('incr', KEYS[2])
end
if redis.call('get', KEYS[1]) == ARGV[1] then
  redis.call('pexpire', KEYS[1], ARGV[2])
  return 0
end
return -1
"""

_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('del', KEYS[1])
end
return 0
"""

_RAISE_FENCE = """
local now = tonumber(redis.call('get', KEYS[1]) or '0')
local want = tonumber(ARGV[1])
if now < want then
  redis.call('set', KEYS[1], want)
  return want
end
return now
"""

_PUT_IF_OWNER = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  redis.call('set', KEYS[2], ARGV[2], 'PX', ARGV[3])
  return 1
end
return 0
"""

_LOG_APPEND = """
if KEYS[3] and redis.call('get', KEYS[3]) ~= ARGV[3] then
  return 0
end
if redis.call('exists', KEYS[1]) == 0 or redis.call('exists', KEYS[2]) == 0 then
  redis.call('del', KEYS[1])
  redis.call('set', KEYS[2], ARGV[2])
end
for i = 4, #ARGV do
  redis.call('rpush', KEYS[1], ARGV[i])
end
redis.call('pexpire', KEYS[1], ARGV[1])
redis.call('pexpire', KEYS[2], ARGV[1])
return 1
"""

_HEARTBEAT = """
local now = redis.call('time')
local ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
redis.call('zadd', KEYS[1], ms + tonumber(ARGV[2]), ARGV[1])
redis.call('zremrangebyscore', KEYS[1], '-inf', ms)
redis.call('pexpire', KEYS[1], ARGV[2])
return redis.call('zcard', KEYS[1])
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


def _ms(seconds: float) -> int:
    return max(1, int(seconds * 1000))


class RedisBus:
    """Redis pub/sub and keys. One listener thread per process feeds the local fan-out, so a
    thousand WebSocket clients cost one Redis connection, not a thousand. Calls time out after
    `timeout` seconds: a frozen Redis is an error, never a hang."""

    def __init__(self, url: str, timeout: float = 2.0) -> None:
        import redis

        self._redis = redis.Redis.from_url(
            url, decode_responses=True, socket_timeout=timeout, socket_connect_timeout=timeout
        )
        self._fanout = Fanout()
        self._stop = threading.Event()
        self._listener: threading.Thread | None = None
        self._listener_lock = threading.Lock()
        self._scripts = {
            name: self._redis.register_script(body)
            for name, body in (
                ("lease", _LEASE), ("release", _RELEASE), ("raise_fence", _RAISE_FENCE),
                ("put_if_owner", _PUT_IF_OWNER), ("log_append", _LOG_APPEND),
                ("heartbeat", _HEARTBEAT), ("put_newer", _PUT_NEWER),
            )
        }  # fmt: skip

    def publish(self, channel: str, message: dict[str, Any]) -> None:
        self._redis.publish(channel, json.dumps(message))

    def subscribe(self, channel: str) -> AsyncIterator[dict[str, Any]]:
        self._ensure_listener()
        return self._fanout.subscribe(channel)

    def put(self, key: str, value: str, ttl: float) -> None:
        self._redis.set(key, value, px=_ms(ttl))

    def get(self, key: str) -> str | None:
        value = self._redis.get(key)
        return value if isinstance(value, str) else None

    def put_if_owner(self, lease: str, owner: str, key: str, value: str, ttl: float) -> bool:
        return bool(self._scripts["put_if_owner"](keys=[lease, key], args=[owner, value, _ms(ttl)]))

    def log_append(
        self, key: str, epoch_key: str, values: list[str], ttl: float,
        lease: tuple[str, str] | None = None,
    ) -> bool:  # fmt: skip
        if not values:
            return True
        lease_keys, owner = ([lease[0]], lease[1]) if lease is not None else ([], "")
        done = self._scripts["log_append"](
            keys=[key, epoch_key, *lease_keys], args=[_ms(ttl), uuid.uuid4().hex, owner, *values]
        )
        return bool(done)

    def log_read(self, key: str, epoch_key: str, start: int = 0) -> tuple[str | None, list[str]]:
        with self._redis.pipeline(transaction=True) as pipe:
            pipe.get(epoch_key)
            pipe.lrange(key, start, -1)
            epoch, entries = pipe.execute()
        return epoch, list(entries)

    def lease(self, key: str, fence_key: str, owner: str, ttl: float) -> int:
        return int(self._scripts["lease"](keys=[key, fence_key], args=[owner, _ms(ttl)]))

    def release(self, key: str, owner: str) -> bool:
        return bool(self._scripts["release"](keys=[key], args=[owner]))

    def raise_fence(self, fence_key: str, at_least: int) -> int:
        return int(self._scripts["raise_fence"](keys=[fence_key], args=[at_least]))

    def heartbeat(self, key: str, member: str, ttl: float) -> int:
        return int(self._scripts["heartbeat"](keys=[key], args=[member, _ms(ttl)]))

    def leave(self, key: str, member: str) -> None:
        self._redis.zrem(key, member)

    def put_newer(
        self, key: str, entries: Sequence[tuple[str, str, str]], ttl: float
    ) -> list[tuple[str, str] | None]:
        """As InProcessBus.put_newer, in one Lua script (orders must hold no space)."""
        if not entries:
            return []
        args = [str(_ms(ttl))] + [x for entry in entries for x in entry]
        raw = self._scripts["put_newer"](keys=[key], args=args)
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
                    pubsub.psubscribe(keys.CHANNELS)
                message = pubsub.get_message(timeout=1.0)
                if message is not None and message.get("type") == "pmessage":
                    self._fanout.deliver(message["channel"], json.loads(message["data"]))
            except Exception:  # Redis went away: reconnect after a pause, keep serving
                pubsub = None
                self._stop.wait(1.0)
        if pubsub is not None:
            pubsub.close()
