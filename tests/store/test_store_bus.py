"""One contract for both buses: TTL state, logs, leases and publish/subscribe."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator

import pytest

from sentra_ml.store.bus import Bus, InProcessBus, RedisBus


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
def bus(request: pytest.FixtureRequest) -> Iterator[Bus]:
    made: Bus = (
        InProcessBus()
        if request.param == "memory"
        else RedisBus(request.getfixturevalue("redis_url"))
    )
    yield made
    made.close()


def key() -> str:
    return f"sentra:test:{uuid.uuid4().hex}"


def test_values_expire(bus: Bus) -> None:
    k = key()
    bus.put(k, "v", ttl=0.2)
    assert bus.get(k) == "v"
    time.sleep(0.3)
    assert bus.get(k) is None


def test_logs_append_and_read_from_an_offset_within_one_epoch(bus: Bus) -> None:
    k, e = key(), key()
    bus.log_append(k, e, ["a", "b"], ttl=10)
    bus.log_append(k, e, ["c"], ttl=10)
    epoch, entries = bus.log_read(k, e)
    assert entries == ["a", "b", "c"] and epoch is not None
    assert bus.log_read(k, e, 2) == (epoch, ["c"])
    assert bus.log_read(key(), key()) == (None, [])


def test_a_log_lost_and_begun_anew_has_another_epoch(bus: Bus) -> None:
    k, e = key(), key()
    bus.log_append(k, e, ["a"], ttl=0.2)
    first, _ = bus.log_read(k, e)
    time.sleep(0.3)  # as if Redis had restarted empty
    bus.log_append(k, e, ["b"], ttl=10)
    second, entries = bus.log_read(k, e)
    assert entries == ["b"] and second not in (None, first)


def test_a_fenced_append_needs_the_lease(bus: Bus) -> None:
    k, e, lease, fence = key(), key(), key(), key()
    assert not bus.log_append(k, e, ["x"], 10, lease=(lease, "a"))
    assert bus.lease(lease, fence, "a", ttl=10) > 0
    assert bus.log_append(k, e, ["y"], 10, lease=(lease, "a"))
    assert bus.log_read(k, e)[1] == ["y"]


def test_a_lease_has_one_owner_until_it_expires_and_each_taking_a_new_token(bus: Bus) -> None:
    k, fence = key(), key()
    first = bus.lease(k, fence, "a", ttl=0.3)
    assert first > 0
    assert bus.lease(k, fence, "a", ttl=0.3) == 0  # renewal
    assert bus.lease(k, fence, "b", ttl=0.3) == -1
    time.sleep(0.4)
    assert bus.lease(k, fence, "b", ttl=0.3) == first + 1
    assert not bus.release(k, "a") and bus.release(k, "b")
    assert bus.lease(k, fence, "a", ttl=0.3) == first + 2


def test_the_fence_is_lifted_never_lowered(bus: Bus) -> None:
    fence = key()
    assert bus.raise_fence(fence, 5) == 5
    assert bus.raise_fence(fence, 3) == 5
    assert bus.lease(key(), fence, "a", ttl=1) == 6


def test_a_fenced_put_needs_the_lease(bus: Bus) -> None:
    lease, fence, k = key(), key(), key()
    assert not bus.put_if_owner(lease, "a", k, "v", 10) and bus.get(k) is None
    bus.lease(lease, fence, "a", ttl=10)
    assert bus.put_if_owner(lease, "a", k, "v", 10) and bus.get(k) == "v"
    assert not bus.put_if_owner(lease, "b", k, "w", 10) and bus.get(k) == "v"


def test_heartbeats_count_the_live_members(bus: Bus) -> None:
    k = key()
    assert bus.heartbeat(k, "a", 0.3) == 1
    assert bus.heartbeat(k, "b", 10) == 2
    time.sleep(0.4)
    assert bus.heartbeat(k, "b", 10) == 1


def test_put_newer_keeps_each_field_s_newest_value_and_returns_the_previous(bus: Bus) -> None:
    k = key()
    assert bus.put_newer(k, [("a", "002", "x"), ("b", "001", "y")], ttl=10) == [None, None]
    # an older or equal order leaves the field alone; a newer one replaces it
    before = bus.put_newer(k, [("a", "001", "old"), ("b", "002", "z"), ("b", "002", "again")], 10)
    assert before == [("002", "x"), ("001", "y"), ("002", "z")]
    assert bus.put_newer(k, [("a", "003", "w")], ttl=0.2) == [("002", "x")]
    assert bus.put_newer(k, [], ttl=10) == []
    time.sleep(0.3)  # the whole hash expires with its ttl
    assert bus.put_newer(k, [("a", "001", "v")], ttl=10) == [None]


def test_subscribers_get_what_is_published_on_their_channel(bus: Bus) -> None:
    channel = key()

    async def scenario() -> list[dict]:
        updates = bus.subscribe(channel)
        first = asyncio.ensure_future(anext(updates))  # type: ignore[arg-type]
        got: list[dict] = []
        for _ in range(50):  # the Redis listener needs a moment to subscribe
            await asyncio.sleep(0.05)
            bus.publish(channel + ":other", {"n": -1})
            bus.publish(channel, {"n": 1})
            if first.done():
                break
        got.append(first.result())
        await updates.aclose()  # type: ignore[attr-defined]
        return got

    assert asyncio.run(asyncio.wait_for(scenario(), 10))[0] == {"n": 1}
