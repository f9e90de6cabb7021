"""A person's pause, abort and promotion of a routed rollout are obeyed at the controller's next
tick, through the real router (HAProxy), and the audit says who."""

from __future__ import annotations

from pathlib import Path

import pytest
from api_helpers import Api
from haproxy_server import running_haproxy
from routed import FAST, backdated, drive, haproxy_target, ledger, row

from sentra_ml.analysis.types.labels import Cohort


def _act(api: Api, rid: str, action: str) -> dict[str, object]:
    answer = api.post(f"/v1/rollouts/{rid}/actions", json={"action": action, "reason": "test"})
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


@pytest.mark.timeout(120)
def test_an_abort_restores_the_baseline_at_the_next_tick(embedded: Api, tmp_path: Path) -> None:
    with running_haproxy(tmp_path) as haproxy:
        rollout = backdated(embedded, target=haproxy_target(haproxy.router), policy=FAST)
        rid, t0 = rollout["id"], rollout["created_at"]
        drive(embedded, rid, t0, 2)
        assert haproxy.router.get_weights()[Cohort.CANARY] == 5.0
        assert _act(embedded, rid, "abort")["state"] == "rolling_back"  # not over yet
        [verdict] = drive(embedded, rid, t0, 1, start=2)
        assert verdict["state"] == "aborted" and verdict["action"] == "rollback"
        assert any("aborted by a person" in r for r in verdict["reasons"])
        assert haproxy.router.get_weights()[Cohort.CANARY] == 0.0
        assert [w for w, _ in ledger(embedded, rid)] == [5.0, 0.0]


@pytest.mark.timeout(120)
def test_a_pause_holds_the_weights_and_a_promotion_goes_to_100(
    embedded: Api, tmp_path: Path
) -> None:
    with running_haproxy(tmp_path) as haproxy:
        rollout = backdated(embedded, target=haproxy_target(haproxy.router), policy=FAST)
        rid, t0 = rollout["id"], rollout["created_at"]
        drive(embedded, rid, t0, 2)
        _act(embedded, rid, "pause")
        held = drive(embedded, rid, t0, 60, start=2)
        assert all(v["state"] == "paused" and v["weight"] == 5.0 for v in held)
        assert any(v["proposed_weight"] > 5.0 for v in held)  # the judge would have stepped
        assert haproxy.router.get_weights()[Cohort.CANARY] == 5.0
        assert _act(embedded, rid, "promote")["state"] == "promoting"
        [verdict] = drive(embedded, rid, t0, 1, start=62)
        assert verdict["state"] == "promoted" and verdict["weight"] == 100.0
        assert haproxy.router.get_weights()[Cohort.CANARY] == 100.0
        assert row(embedded, rid).applied_weight == 100.0
