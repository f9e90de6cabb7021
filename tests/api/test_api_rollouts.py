"""Rollouts through the API: create, list, telemetry, streaming verdicts, actions, audit trail."""

from __future__ import annotations

import time
import uuid

from api_helpers import Api, detail_text, lines  # type: ignore[import-not-found]

from sentra_ml.store.audit import JUDGE_VERSION
from sentra_ml.store.tokens import Role


def test_create_get_and_list_with_filters_and_pages(api: Api) -> None:
    service = f"svc-{uuid.uuid4().hex[:6]}"
    made = [api.create(service)["id"] for _ in range(3)]
    api.create(f"other-{uuid.uuid4().hex[:6]}")
    got = api.get(f"/v1/rollouts/{made[0]}").json()
    assert got["state"] == "running" and got["weight"] == 1.0 and got["service"] == service
    page = api.get("/v1/rollouts", params={"service": service, "limit": 2}).json()
    assert page["total"] == 3 and len(page["items"]) == 2
    rest = api.get("/v1/rollouts", params={"service": service, "limit": 2, "offset": 2}).json()
    assert {r["id"] for r in page["items"] + rest["items"]} == set(made)
    running = api.get("/v1/rollouts", params={"service": service, "state": "running"}).json()
    assert running["total"] == 3
    assert (
        api.get("/v1/rollouts", params={"service": service, "state": "promoted"}).json()["total"]
        == 0
    )


def test_a_regressed_canary_is_rolled_back_with_evidence_in_the_audit(api: Api) -> None:
    rollout = api.create()
    rid = rollout["id"]
    assert api.get(f"/v1/rollouts/{rid}/verdict").json()["verdict"] is None
    now = time.time()
    pushed = api.post(f"/v1/rollouts/{rid}/telemetry", json={"lines": lines(now - 30, 15, 9)})
    assert pushed.status_code == 202 and pushed.json() == {"accepted": 60}
    api.judge(now)
    current = api.get(f"/v1/rollouts/{rid}/verdict").json()
    assert current["state"] == "rolled_back"
    assert current["verdict"]["action"] == "rollback"
    assert any("errors" in r for r in current["verdict"]["reasons"])
    trail = api.get(f"/v1/rollouts/{rid}/events").json()["items"]
    kinds = [e["kind"] for e in trail]
    assert kinds[0] == "created" and "decision" in kinds and kinds[-1] == "state"
    decision = next(e["decision"] for e in trail if e["kind"] == "decision")
    assert decision["action"] == "rollback" and decision["model_version"] == JUDGE_VERSION
    assert decision["verdict"]["evidence"][0]["metric"] == "errors"
    assert api.get(f"/v1/rollouts/{rid}").json()["weight"] == 0.0
    late = api.post(f"/v1/rollouts/{rid}/telemetry", json={"lines": lines(now, 1, 0)})
    assert late.status_code == 409


def test_a_healthy_canary_keeps_going_and_records_only_changes(api: Api) -> None:
    rid = api.create()["id"]
    now = time.time()
    api.post(f"/v1/rollouts/{rid}/telemetry", json={"lines": lines(now - 30, 15, 1)})
    api.judge(now)
    api.judge(now + 1)
    verdict = api.get(f"/v1/rollouts/{rid}/verdict").json()
    assert verdict["state"] == "running"
    assert verdict["verdict"]["action"] in ("continue", "promote")
    decisions = [e for e in api.get(f"/v1/rollouts/{rid}/events").json()["items"] if e["decision"]]
    assert len(decisions) == 1  # the second evaluation changed nothing


def test_without_telemetry_the_judge_pauses_then_rolls_back(api: Api) -> None:
    rollout = api.create(stale_after_seconds=10, grace_seconds=30)
    rid, created = rollout["id"], rollout["created_at"]
    api.judge(created + 2)
    waiting = api.get(f"/v1/rollouts/{rid}/verdict").json()["verdict"]
    assert waiting["score"] is None and waiting["hold"] is True
    assert waiting["reasons"][-1] == "waiting for data: holding at 1 %"
    events = api.get(f"/v1/rollouts/{rid}/events").json()["items"]
    assert [e["decision"]["score"] for e in events if e["decision"]] == [None]
    api.judge(created + 15)
    paused = api.get(f"/v1/rollouts/{rid}/verdict").json()
    assert paused["verdict"]["action"] == "pause" and paused["state"] == "running"
    assert any("no data" in r for r in paused["verdict"]["reasons"])
    api.judge(created + 60)
    assert api.get(f"/v1/rollouts/{rid}/verdict").json()["state"] == "rolled_back"


def test_manual_actions_follow_the_state_machine_and_name_the_caller(api: Api) -> None:
    rid = api.create()["id"]
    act = f"/v1/rollouts/{rid}/actions"
    assert api.post(act, json={"action": "resume", "reason": "r"}).status_code == 409
    assert api.post(act, json={"action": "pause", "reason": "look"}).json()["state"] == "paused"
    assert api.post(act, json={"action": "pause", "reason": "again"}).status_code == 409
    assert api.post(act, json={"action": "resume", "reason": "ok"}).json()["state"] == "running"
    aborted = api.post(act, json={"action": "abort", "reason": "bad smell"})
    assert aborted.json()["state"] == "aborted" and aborted.json()["weight"] == 0.0
    conflict = api.post(act, json={"action": "promote", "reason": "oops"})
    assert conflict.status_code == 409 and "aborted" in conflict.json()["detail"]
    trail = api.get(f"/v1/rollouts/{rid}/events").json()["items"]
    manual = [e for e in trail if e["kind"] == "state"]
    assert [e["payload"]["to"] for e in manual] == ["paused", "running", "aborted"]
    assert all(e["actor"].startswith("token:t-operator") for e in manual)
    assert "bad smell" in manual[-1]["reason"]
    decision = next(e["decision"] for e in trail if e["decision"])
    assert decision["model_version"] == "manual" and decision["action"] == "rollback"


def test_a_paused_rollout_still_rolls_back_on_a_regression(api: Api) -> None:
    rid = api.create()["id"]
    api.post(f"/v1/rollouts/{rid}/actions", json={"action": "pause", "reason": "hold"})
    now = time.time()
    api.post(f"/v1/rollouts/{rid}/telemetry", json={"lines": lines(now - 30, 15, 9)})
    api.judge(now)
    assert api.get(f"/v1/rollouts/{rid}").json()["state"] == "rolled_back"


def test_stored_policies_feed_rollouts(api: Api) -> None:
    name = f"p-{uuid.uuid4().hex[:6]}"
    body = {"name": name, "metrics": [{"name": "errors", "kind": "ratio"}], "alpha": 0.02}
    put = api.client.put(f"/v1/policies/{name}", json=body, headers=api.headers(Role.ADMIN))
    assert put.status_code == 200, put.text
    rollout = api.create(metrics=None, policy_name=name, grace_seconds=5)
    assert rollout["spec"]["alpha"] == 0.02 and rollout["spec"]["grace_seconds"] == 5
    missing = api.post(
        "/v1/rollouts",
        json={"service": "s", "baseline_version": "a", "canary_version": "b", "policy_name": "no"},
    )
    assert missing.status_code == 422 and "policy_name" in detail_text(missing)


def test_a_verdict_says_how_old_it_is(api: Api) -> None:
    rid = api.create()["id"]
    assert api.get(f"/v1/rollouts/{rid}/verdict").json()["age_seconds"] is None
    now = time.time()
    api.post(f"/v1/rollouts/{rid}/telemetry", json={"lines": lines(now - 10, 5, 1)})
    api.judge(now - 30)  # a verdict made 30 s ago, as if its controller had died since
    time.sleep(0.25)  # past the read cache
    body = api.get(f"/v1/rollouts/{rid}/verdict").json()
    assert 29.0 <= body["age_seconds"] <= 60.0 and body["verdict"]["ts"] == now - 30
