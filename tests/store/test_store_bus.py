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


def test_logs_append_and_read_from_an_offset(bus: Bus) -> None:
    k = key()
    bus.append(k, ["a", "b"], ttl=10)
    bus.append(k, ["c"], ttl=10)
    assert bus.read_list(k) == ["a", "b", "c"]
    assert bus.read_list(k, 2) == ["c"]
    assert bus.read_list(key()) == []


def test_a_lease_has_one_owner_until_it_expires(bus: Bus) -> None:
    k = key()
    assert bus.lease(k, "a", ttl=0.3)
    assert bus.lease(k, "a", ttl=0.3)  # renewal
    assert not bus.lease(k, "b", ttl=0.3)
    time.sleep(0.4)
    assert bus.lease(k, "b", ttl=0.3)


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
