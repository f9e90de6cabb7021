"""Delivery to this process's subscribers, shared by both buses."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections import defaultdict
from collections.abc import AsyncIterator
from typing import Any


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
