"""The series the judging loop records, read back per metric and cohort by id cursor, and the
stream's first-message login that keeps tokens out of URLs."""

from __future__ import annotations

import time

import pytest
from api_helpers import Api, lines  # type: ignore[import-not-found]
from starlette.websockets import WebSocketDisconnect

from sentra_ml.store import series
from sentra_ml.store.tokens import Role


def test_each_tick_adds_points_read_after_a_cursor(api: Api) -> None:
    rid = api.create()["id"]
    now = time.time()
    api.post(f"/v1/rollouts/{rid}/telemetry", json={"lines": lines(now - 4, 2, 1)})
    api.judge(now)
    first = api.get(f"/v1/rollouts/{rid}/series").json()
    assert {"baseline", "canary", "effect"} <= set(first["series"]["errors"])
    assert first["series"]["errors"]["canary"][0]["value"] == pytest.approx(0.01)
    assert [p["value"] for p in first["series"][""]["weight"]] == [1.0]
    assert first["latency_quantiles"] == {"latency_ms": 0.99}
    api.post(f"/v1/rollouts/{rid}/telemetry", json={"lines": lines(now, 1, 5)})
    api.judge(now + 2)
    later = api.get(f"/v1/rollouts/{rid}/series", params={"after": first["next"]}).json()
    assert later["series"]["errors"]["canary"][0]["value"] == pytest.approx(0.05)
    assert len(later["series"][""]["weight"]) == 1  # only the new tick's


def test_points_of_long_ended_rollouts_are_pruned(api: Api) -> None:
    rid = api.create()["id"]
    api.post(f"/v1/rollouts/{rid}/telemetry", json={"lines": lines(time.time() - 4, 2, 1)})
    api.judge()
    api.post(f"/v1/rollouts/{rid}/actions", json={"action": "abort", "reason": "test"})
    with api.app.state.services.sessions() as session, session.begin():
        assert series.prune(session=session, now=time.time(), retention_seconds=3600) == 0
        assert series.prune(session=session, now=time.time() + 7200, retention_seconds=3600) > 0
    assert api.get(f"/v1/rollouts/{rid}/series").json()["series"] == {}


def test_the_stream_takes_its_token_as_the_first_message(api: Api) -> None:
    rid = api.create()["id"]
    with api.client.websocket_connect(f"/v1/rollouts/{rid}/stream?auth=message") as ws:
        ws.send_json({"token": api.secrets[Role.VIEWER]})
        api.post(f"/v1/rollouts/{rid}/actions", json={"action": "pause", "reason": "look"})
        assert ws.receive_json()["state"] == "paused"
    with (
        api.client.websocket_connect(f"/v1/rollouts/{rid}/stream?auth=message") as ws,
        pytest.raises(WebSocketDisconnect) as closed,
    ):
        ws.send_json({"token": "sentra_wrong"})
        ws.receive_json()
    assert closed.value.code == 1008
