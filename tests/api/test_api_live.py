"""Live updates over WebSockets, several replicas on one database and Redis, and rebuilding a
rollout's judge from its telemetry log."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from api_helpers import Api, lines, settings_for, start  # type: ignore[import-not-found]

from sentra_ml.compose import controller_on
from sentra_ml.store import keys
from sentra_ml.store.schema import Rollout
from sentra_ml.store.tokens import Role


def _until(ws, kind: str, rollout_id: str | None = None) -> dict:  # type: ignore[no-untyped-def]
    """The next message of `kind` (of `rollout_id`: the shared Redis carries other tests' too)."""
    while True:
        message = ws.receive_json()
        if message["type"] == kind and rollout_id in (None, message.get("rollout_id")):
            return dict(message)


@pytest.mark.timeout(60)
def test_websocket_pushes_verdicts_and_state_changes(api: Api) -> None:
    rid = api.create()["id"]
    token = api.secrets[Role.VIEWER]
    with (
        api.client.websocket_connect(f"/v1/rollouts/{rid}/stream?token={token}") as one,
        api.client.websocket_connect("/v1/stream", headers=api.headers(Role.VIEWER)) as every,
    ):
        now = time.time()
        api.judge(now)  # before any telemetry: nothing to score yet
        waiting = _until(one, "verdict")
        assert waiting["score"] is None and waiting["hold"] is True
        assert waiting["reasons"][-1] == "waiting for data: holding at 1 %"
        api.post(f"/v1/rollouts/{rid}/telemetry", json={"lines": lines(now - 30, 15, 9)})
        api.judge(now + 2)
        verdict = _until(one, "verdict")
        assert verdict["rollout_id"] == rid and verdict["action"] == "rollback"
        assert _until(one, "weight")["weight"] == 0.0
        assert _until(one, "state")["state"] == "rolled_back"
        assert _until(every, "verdict", rid)["score"] is None  # the first: waiting for data


def test_websocket_without_a_token_is_closed(api: Api) -> None:
    from starlette.websockets import WebSocketDisconnect

    with (
        pytest.raises(WebSocketDisconnect) as closed,
        api.client.websocket_connect("/v1/stream") as ws,
    ):
        ws.receive_json()
    assert closed.value.code == 1008


@pytest.mark.mysql
@pytest.mark.redis
@pytest.mark.timeout(60)
def test_two_replicas_share_state_and_live_updates(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    settings = settings_for("mariadb+redis", tmp_path, request)
    for a in start(settings):
        for b in start(settings.model_copy(update={"data_dir": tmp_path / "b"})):
            rid = b.create()["id"]
            with b.client.websocket_connect(
                f"/v1/rollouts/{rid}/stream", headers=b.headers(Role.VIEWER)
            ) as ws:
                now = time.time()
                b.post(f"/v1/rollouts/{rid}/telemetry", json={"lines": lines(now - 30, 15, 9)})
                assert a.judge(now) >= 1  # a takes the lease and judges
                assert b.judge(now) == 0  # a holds the lease
                assert _until(ws, "verdict")["action"] == "rollback"  # through Redis
            assert b.get(f"/v1/rollouts/{rid}/verdict").json()["state"] == "rolled_back"


def test_a_new_replica_rebuilds_the_judge_from_the_log(api: Api) -> None:
    rollout = api.create(policy={"steps": [1, 5, 25, 100], "min_step_seconds": 4})
    rid, t0 = rollout["id"], rollout["created_at"]
    for k in range(30):
        batch = lines(t0 + 2 * k, 1, canary_failed=1, total=400)
        api.post(f"/v1/rollouts/{rid}/telemetry", json={"lines": batch})
        api.judge(t0 + 2 * k + 1)
    before = api.get(f"/v1/rollouts/{rid}/verdict").json()["verdict"]
    svc = api.app.state.services
    fresh = controller_on(svc, own_metrics=True)
    svc.bus.release(keys.lease(rid), api.controller.replica)  # the old replica's lease ran out
    with svc.sessions() as session:
        row = session.get(Rollout, rid)
        assert row is not None
        after = fresh.tick(row, t0 + 2 * 29 + 1)
    assert after is not None
    assert (after["action"], after["weight"]) == (before["action"], before["weight"])
    assert before["weight"] > 1.0  # the schedule had moved: the rebuild replayed the steps


def test_the_fresh_entries_of_one_tick_are_judged_together(api: Api) -> None:
    rollout = api.create()
    rid, t0 = rollout["id"], rollout["created_at"]
    api.judge(t0 + 1)  # the replica opens the rollout's judge
    tracked = api.controller.tracked(rid)
    assert tracked is not None
    judge = tracked.session.judge
    evaluated: list[float] = []
    evaluate = judge.evaluate
    judge.evaluate = lambda now: evaluated.append(now) or evaluate(now)  # type: ignore[method-assign]
    both = lines(t0 + 10, 1, 0)
    baseline = [line for line in both if line["cohort"] == "baseline"]
    canary = [dict(line, ts=t0 + 9.5) for line in both if line["cohort"] == "canary"]
    for batch in (baseline, canary):  # two pushes between ticks, the canary's a little older
        assert api.post(f"/v1/rollouts/{rid}/telemetry", json={"lines": batch}).status_code == 202
    api.judge(t0 + 10.5)
    assert evaluated == [t0 + 10.5]  # no evaluation between the two entries


@pytest.mark.timeout(30)
def test_a_stream_of_an_unknown_rollout_is_closed_with_4404(api: Api) -> None:
    from starlette.websockets import WebSocketDisconnect

    token = api.secrets[Role.VIEWER]
    with (
        pytest.raises(WebSocketDisconnect) as closed,
        api.client.websocket_connect(f"/v1/rollouts/nope/stream?token={token}") as ws,
    ):
        ws.receive_json()
    assert closed.value.code == 4404 and "rollout_id" in str(closed.value.reason)
