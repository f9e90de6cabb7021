"""WebSockets: every verdict, weight change and state change, as it happens.

Browsers cannot set headers on a WebSocket, so the token may also come as `?token=`, or, to keep
it out of URLs (and the logs that record them), with `?auth=message` as the first message,
`{"token": "..."}`, within AUTH_SECONDS of the connection (the dashboard does so). The stream
of a rollout that does not exist is accepted and closed at once with NO_SUCH_ROLLOUT (4404, the
404 of HTTP) and a reason, which a browser sees (it sees no HTTP status).
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from fastapi import APIRouter, HTTPException, WebSocket, WebSocketDisconnect, status

from sentra_ml.api.auth import bearer, check_role
from sentra_ml.api.deps import Services, authenticate
from sentra_ml.spec import clip
from sentra_ml.store import keys
from sentra_ml.store.schema import Rollout
from sentra_ml.store.tokens import Role

router = APIRouter(prefix="/v1", tags=["stream"])
NO_SUCH_ROLLOUT = 4404
AUTH_SECONDS = 5.0


@router.websocket("/stream")
async def stream_all(ws: WebSocket) -> None:
    """Everything that happens to any rollout."""
    await _serve(ws, keys.EVENTS, None)


@router.websocket("/rollouts/{rollout_id}/stream")
async def stream_rollout(ws: WebSocket, rollout_id: str) -> None:
    """One rollout: first its current verdict, then every change."""
    await _serve(ws, keys.rollout_events(rollout_id), rollout_id)


async def _serve(ws: WebSocket, channel: str, rollout_id: str | None) -> None:
    svc: Services = ws.app.state.services
    by_message = ws.query_params.get("auth") == "message"
    if by_message:
        await ws.accept()
        secret = await _first_message_token(ws)
    else:
        secret = bearer(ws) or ws.query_params.get("token")  # type: ignore[arg-type]
    try:
        check_role(authenticate(svc, secret), Role.VIEWER)
    except HTTPException as err:
        with contextlib.suppress(RuntimeError):  # a message-auth client may be gone already
            await ws.close(code=status.WS_1008_POLICY_VIOLATION, reason=str(err.detail))
        return
    if not by_message:
        await ws.accept()
    if rollout_id is not None and not await asyncio.to_thread(_exists, svc, rollout_id):
        reason = f"rollout_id: no rollout '{clip(rollout_id)}'"
        await ws.close(code=NO_SUCH_ROLLOUT, reason=reason)
        return
    updates = svc.bus.subscribe(channel)
    receiver = asyncio.create_task(_until_closed(ws))
    try:
        if rollout_id is not None:
            latest = await asyncio.to_thread(svc.live.latest, rollout_id)
            if latest is not None:
                await ws.send_json({"type": "verdict", **latest})
        while not receiver.done():
            nxt: asyncio.Task[Any] = asyncio.create_task(anext(updates))  # type: ignore[arg-type]
            done, _ = await asyncio.wait({nxt, receiver}, return_when=asyncio.FIRST_COMPLETED)
            if nxt in done:
                await ws.send_json(nxt.result())
            else:
                nxt.cancel()
    except WebSocketDisconnect:
        pass
    finally:
        receiver.cancel()
        with contextlib.suppress(Exception):
            await updates.aclose()  # type: ignore[attr-defined]


async def _first_message_token(ws: WebSocket) -> str | None:
    """The token of the first message, `{"token": "..."}`; None if it is not that or late."""
    try:
        message = await asyncio.wait_for(ws.receive_json(), AUTH_SECONDS)
    except (TimeoutError, ValueError, KeyError, WebSocketDisconnect):
        return None
    token = message.get("token") if isinstance(message, dict) else None
    return token if isinstance(token, str) and token else None


def _exists(svc: Services, rollout_id: str) -> bool:
    with svc.sessions() as session:
        return session.get(Rollout, rollout_id) is not None


async def _until_closed(ws: WebSocket) -> None:
    """Read (and ignore) client messages until the client goes away."""
    with contextlib.suppress(WebSocketDisconnect):
        while True:
            await ws.receive_text()
