"""The controller shifts traffic itself, through real NGINX and HAProxy: healthy canaries walk
the steps to promotion, regressions roll back, and only weights the router verified count."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest
from api_helpers import Api
from haproxy_server import running_haproxy
from nginx_server import running_nginx
from routed import FAST, backdated, drive, haproxy_target, ledger, nginx_target, row

from sentra_ml.analysis.types.labels import Cohort


@pytest.mark.timeout(120)
def test_a_healthy_canary_is_stepped_through_nginx_to_promotion(api: Api, tmp_path: Path) -> None:
    with running_nginx(tmp_path / "nginx") as nginx:
        rollout = backdated(api, target=nginx_target(nginx.router), policy=FAST)
        assert rollout["state"] == "pending"
        verdicts = drive(api, rollout["id"], rollout["created_at"], 200)
        assert verdicts[0]["state"] == "running"  # the first step is in force
        assert verdicts[-1]["state"] == "promoted"
        assert nginx.router.get_weights()[Cohort.CANARY] == 100.0
        changes = ledger(api, rollout["id"])
        assert [w for w, _ in changes] == [5.0, 25.0, 100.0]
        assert {status for _, status in changes} == {"applied"}
        # every verdict states the weight the router verified, never the judge's proposal
        in_force = [v["weight"] for v in verdicts]
        assert in_force == sorted(in_force) and set(in_force) <= {5.0, 25.0, 100.0}
        assert row(api, rollout["id"]).applied_weight == 100.0


@pytest.mark.timeout(120)
def test_a_regression_is_rolled_back_through_haproxy(embedded: Api, tmp_path: Path) -> None:
    with running_haproxy(tmp_path) as haproxy:
        rollout = backdated(embedded, target=haproxy_target(haproxy.router), policy=FAST)
        rid, t0 = rollout["id"], rollout["created_at"]
        drive(embedded, rid, t0, 1)
        assert haproxy.router.get_weights()[Cohort.CANARY] == 5.0
        verdicts = drive(embedded, rid, t0, 40, canary_failed=60, start=1)
        assert verdicts[-1]["state"] == "rolled_back" and verdicts[-1]["action"] == "rollback"
        assert haproxy.router.get_weights()[Cohort.CANARY] == 0.0
        assert [w for w, _ in ledger(embedded, rid)] == [5.0, 0.0]


@pytest.mark.timeout(120)
def test_a_stopped_nginx_holds_the_weights_and_nothing_unverified_is_recorded(
    embedded: Api, tmp_path: Path
) -> None:
    with running_nginx(tmp_path / "nginx") as nginx:
        rollout = backdated(embedded, target=nginx_target(nginx.router), policy=FAST)
        rid, t0 = rollout["id"], rollout["created_at"]
        drive(embedded, rid, t0, 1)
        os.kill(nginx.master_pid, signal.SIGKILL)  # stopped: `nginx -s reload` fails
        os.waitpid(nginx.master_pid, 0)  # reaped, or a signal to the zombie would succeed
        verdicts = drive(embedded, rid, t0, 30, start=1)
    held = [v for v in verdicts if v.get("proposed_weight", 5.0) > 5.0]
    assert held, "the judge proposed a step up"
    assert all(v["action"] == "pause" and v["weight"] == 5.0 for v in held)
    assert any("router:" in r for v in held for r in v["reasons"])
    assert verdicts[-1]["state"] == "running"  # never promoted on an unconfirmed write
    statuses = {s for w, s in ledger(embedded, rid) if w != 5.0}
    assert statuses and statuses <= {"failed", "intended", "abandoned"}  # never reached
    assert row(embedded, rid).applied_weight == 5.0


@pytest.mark.timeout(120)
def test_a_hanging_haproxy_fails_the_rollback_then_it_completes_when_haproxy_is_back(
    embedded: Api, tmp_path: Path
) -> None:
    with running_haproxy(tmp_path) as haproxy:
        rollout = backdated(embedded, target=haproxy_target(haproxy.router, 0.5), policy=FAST)
        rid, t0 = rollout["id"], rollout["created_at"]
        drive(embedded, rid, t0, 1)
        worker = haproxy.worker_pid()
        os.kill(worker, signal.SIGSTOP)  # frozen: every call on the stats socket times out
        try:
            drive(embedded, rid, t0, 30, canary_failed=60, start=1)
            assert row(embedded, rid).state == "failed"
            events = embedded.get(f"/v1/rollouts/{rid}/events").json()["items"]
            assert any(e["kind"] == "alarm" for e in events)
            metrics = embedded.client.get("/metrics").text
            assert "sentra_router_errors_total" in metrics or "sentra_failed" in metrics
        finally:
            os.kill(worker, signal.SIGCONT)
        # the backoff is at most 30 s of the rollout's clock; keep judging until it is applied
        drive(embedded, rid, t0, 40, canary_failed=60, start=31)
        assert row(embedded, rid).state == "rolled_back"
        assert haproxy.router.get_weights()[Cohort.CANARY] == 0.0
