"""Redis restarted without persistence, under a live rollout: what the user sees.

The verdict keeps coming and keeps its history (the controller that held the rollout keeps its
judge), the telemetry accepted after the restart is judged (the log's new epoch is noticed, not
skipped), and the audit trail says that the log was lost."""

from __future__ import annotations

from pathlib import Path

import pytest
from api_helpers import start
from routed import backdated, push_and_judge
from servers import own_redis

from sentra_ml.settings import Settings

HOLD = {"steps": [1, 5, 100], "min_step_seconds": 1000, "max_step_seconds": 5000}


@pytest.mark.timeout(60)
def test_a_redis_restarted_empty_loses_no_telemetry_accepted_after_it(tmp_path: Path) -> None:
    with own_redis(tmp_path) as redis:
        for api in start(Settings(data_dir=tmp_path / "sentra", redis_url=redis.url)):
            rollout = backdated(api, 100, policy=HOLD)
            rid, t0 = rollout["id"], rollout["created_at"]
            accepted = push_and_judge(api, rid, t0, range(5))
            redis.restart_empty()
            accepted += push_and_judge(api, rid, t0, range(5, 12))
            tracked = api.controller.tracked(rid)
            assert tracked is not None
            assert tracked.session.lines == accepted  # every accepted line was judged, once
            verdict = api.get(f"/v1/rollouts/{rid}/verdict").json()
            assert verdict["verdict"]["ts"] == t0 + 2 * 11 + 1  # fresh
            events = api.get(f"/v1/rollouts/{rid}/events").json()["items"]
            lost = [e for e in events if e["kind"] == "telemetry"]
            assert len(lost) == 1 and "begun anew" in lost[0]["reason"]
