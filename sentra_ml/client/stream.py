"""A rollout's WebSocket stream (`/v1/rollouts/{id}/stream`) and `follow`, which turns it into
one sequence of messages that survives silences and dropped connections."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from sentra_ml.client.errors import (
    AccessDenied,
    RolloutNotFound,
    ServiceUnreachable,
)
from sentra_ml.client.http import SentraClient

TERMINAL = frozenset({"promoted", "rolled_back", "aborted"})
NO_SUCH_ROLLOUT = 4404  # the service's close code for an unknown rollout
POLICY_VIOLATION = 1008  # the service's close code for a refused token


class RolloutStream:
    """One connection to a rollout's stream: first its current verdict, then every change."""

    def __init__(self, client: SentraClient, rollout_id: str) -> None:
        scheme = "wss" if client.url.startswith("https:") else "ws"
        base = client.url.split("://", 1)[1]
        self.url = f"{scheme}://{base}/v1/rollouts/{quote(rollout_id, safe='')}/stream"
        headers = {"Authorization": f"Bearer {client.token}"} if client.token else {}
        self._open = contextlib.ExitStack()
        try:
            self._ws: ClientConnection = self._open.enter_context(
                connect(
                    self.url,
                    additional_headers=headers,
                    open_timeout=client.timeout,
                    close_timeout=1,
                )
            )
        except InvalidStatus as e:
            status = e.response.status_code
            if status in (401, 403):
                raise AccessDenied(
                    f"{status}: the service refused the stream; check SENTRA_TOKEN and its role"
                ) from None
            raise ServiceUnreachable(f"{self.url}: the stream answered {status}") from None
        except (OSError, TimeoutError, InvalidHandshake) as e:
            raise ServiceUnreachable(f"cannot open the stream {self.url} ({e})") from None

    def next(self, timeout: float) -> dict[str, Any] | None:
        """The next message, or None when none came within `timeout` seconds."""
        try:
            raw = self._ws.recv(timeout=timeout)
        except TimeoutError:
            return None
        except ConnectionClosed as e:
            code, reason = (e.rcvd.code, e.rcvd.reason) if e.rcvd else (None, "")
            if code == NO_SUCH_ROLLOUT:
                raise RolloutNotFound(f"404 not found: {reason}") from None
            if code == POLICY_VIOLATION:
                raise AccessDenied(f"the stream was refused: {reason}") from None
            raise StreamClosed(f"the stream closed ({code or 'no close code'} {reason})") from None
        message = json.loads(raw)
        return message if isinstance(message, dict) else None

    def close(self) -> None:
        self._open.close()


class StreamClosed(ServiceUnreachable):
    """The connection ended without a reason of the service's: `follow` reconnects."""


def follow(
    client: SentraClient,
    rollout_id: str,
    *,
    deadline: float | None = None,
    resync_seconds: float = 10.0,
    tick_seconds: float | None = None,
) -> Iterator[dict[str, Any]]:
    """A rollout's messages until it ends: first `{"type": "rollout", ...}` (the rollout as
    `GET` shows it, with its `verdict`), then the stream's `verdict`, `weight`, `state` and
    `traces` messages.

    A silence of `resync_seconds` re-reads the rollout, so a missed message cannot stall a
    watcher, and so does a reconnect after a dropped connection. With `tick_seconds`, each
    shorter silence yields `{"type": "tick"}` (a live view redraws its clocks). Stops after a
    terminal state, or at `deadline` (a `time.monotonic()` value) with `{"type": "deadline"}`.
    """
    client.get(rollout_id)  # a 401, 403 or 404 in the service's words, before any stream
    stream = _open(client, rollout_id, deadline)
    try:
        message: dict[str, Any] | None = snapshot(client, rollout_id)
        quiet = 0.0
        while True:
            if message is not None:
                yield message
                ended = message.get("type") in ("state", "rollout")
                if ended and message.get("state") in TERMINAL:
                    return
            wait = min(resync_seconds, tick_seconds or resync_seconds)
            if deadline is not None:
                wait = min(wait, deadline - time.monotonic())
                if wait <= 0:
                    yield {"type": "deadline"}
                    return
            try:
                message = stream.next(wait)
            except StreamClosed:
                stream.close()
                stream = _open(client, rollout_id, deadline)
                message, quiet = snapshot(client, rollout_id), 0.0
                continue
            if message is not None:
                quiet = 0.0
                continue
            quiet += wait
            if quiet >= resync_seconds:
                message, quiet = snapshot(client, rollout_id), 0.0
            elif tick_seconds is not None:
                message = {"type": "tick"}
    finally:
        stream.close()


def _open(
    client: SentraClient, rollout_id: str, deadline: float | None, retry_seconds: float = 30.0
) -> RolloutStream:
    """A stream; retried once a second for a while, since a service restart drops it."""
    give_up = time.monotonic() + retry_seconds
    if deadline is not None:
        give_up = min(give_up, deadline)
    while True:
        try:
            return RolloutStream(client, rollout_id)
        except ServiceUnreachable:
            if time.monotonic() + 1 >= give_up:
                raise
            time.sleep(1)


def snapshot(client: SentraClient, rollout_id: str) -> dict[str, Any]:
    """The rollout as `GET` shows it, with its latest `verdict` and `verdict_age_seconds`."""
    rollout = client.get(rollout_id)
    current = client.verdict(rollout_id)
    return {
        "type": "rollout",
        **rollout,
        "verdict": current.get("verdict"),
        "verdict_age_seconds": current.get("age_seconds"),
    }
