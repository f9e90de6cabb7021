"""Redis frozen and MariaDB stopped under a live rollout: what a user sees, and that nothing
accepted is lost and nothing is promoted on missing data."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from api_helpers import lines, start
from routed import backdated, push_and_judge
from servers import own_mariadb, own_redis

from sentra_ml.settings import Settings

HOLD = {"steps": [1, 5, 100], "min_step_seconds": 1000, "max_step_seconds": 5000}


@pytest.mark.timeout(120)
def test_a_frozen_redis_is_a_503_never_a_hang_and_judging_resumes(tmp_path: Path) -> None:
    with own_redis(tmp_path) as redis:
        for api in start(Settings(data_dir=tmp_path / "sentra", redis_url=redis.url)):
            rollout = backdated(api, 100, policy=HOLD)
            rid, t0 = rollout["id"], rollout["created_at"]
            url = f"/v1/rollouts/{rid}"
            accepted = push_and_judge(api, rid, t0, range(3))
            redis.freeze()
            started = time.monotonic()
            assert api.get("/healthz", role=None).status_code == 200
            assert time.monotonic() - started < 0.5  # touches no dependency
            time.sleep(0.3)  # the read cache (0.2 s) is spent
            for answer in (
                api.get(f"{url}/verdict"),
                api.post(f"{url}/telemetry", json={"lines": lines(t0 + 6, 1, 1)}),
            ):
                assert answer.status_code == 503 and "retry-after" in answer.headers
            assert time.monotonic() - started < 10  # timeouts, not hangs
            with pytest.raises(Exception):  # noqa: B017 - the controller's round fails, loudly
                api.judge(t0 + 7)
            redis.thaw()
            accepted += push_and_judge(api, rid, t0, range(4, 7))
            verdict = api.get(f"{url}/verdict").json()
            assert verdict["verdict"]["ts"] == t0 + 13  # fresh again
            tracked = api.controller.tracked(rid)
            assert tracked is not None and tracked.session.lines == accepted


@pytest.mark.mysql
@pytest.mark.timeout(180)
def test_a_stopped_mariadb_never_promotes_and_a_regression_is_rolled_back_after(
    tmp_path: Path,
) -> None:
    with own_mariadb(tmp_path) as db, own_redis(tmp_path) as redis:
        settings = Settings(data_dir=tmp_path / "sentra", database_url=db.url, redis_url=redis.url)
        for api in start(settings):
            rollout = backdated(api, 100, policy={"steps": [1, 100], "min_step_seconds": 2})
            rid, t0 = rollout["id"], rollout["created_at"]
            url = f"/v1/rollouts/{rid}"
            api.post(f"{url}/telemetry", json={"lines": lines(t0, 1, 1)})
            api.judge(t0 + 1)
            api.get(f"{url}/verdict")  # a reader known before the outage (tokens are cached)
            db.stop()
            pushed = api.post(f"{url}/telemetry", json={"lines": lines(t0 + 2, 20, 1)})
            assert pushed.status_code == 503  # refused, not silently dropped: the client retries
            seen = api.get(f"{url}/verdict")
            assert seen.status_code == 200  # the last verdict, from the bus, with its time
            assert seen.json()["verdict"]["ts"] == t0 + 1
            with pytest.raises(Exception):  # noqa: B017 - the round cannot list rollouts
                api.judge(t0 + 3)
            db.start()
            batch = lines(t0 + 4, 15, canary_failed=9)
            assert api.post(f"{url}/telemetry", json={"lines": batch}).status_code == 202
            api.judge(t0 + 35)
            body = api.get(f"{url}/verdict").json()
            assert body["state"] == "rolled_back", body  # judged as soon as the database is back
