"""A real controller process killed with -9 at random instants, against a real NGINX: after
each restart it reconciles its intents with what NGINX loaded, so the audit and NGINX agree.
The long version (50 kills and more) is `benchmarks/controller_kills.py`."""

from __future__ import annotations

from pathlib import Path

import pytest
from api_helpers import settings_for, start
from kill_harness import run_kills
from nginx_server import running_nginx


@pytest.mark.mysql
@pytest.mark.redis
@pytest.mark.timeout(300)
def test_kill_9_at_random_instants_never_applies_a_step_twice_or_loses_one(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    settings = settings_for("mariadb+redis", tmp_path, request)
    for api in start(settings):
        with running_nginx(tmp_path / "nginx") as nginx:
            report = run_kills(api, settings, nginx, tmp_path, kills=4, seed=7)
    assert report.kills == 4
    assert report.consistent, (report.history, report.reached)
    assert report.promoted >= 1  # rollouts still complete despite the kills
    finished = [h for h, done in zip(report.history, report.reached, strict=True) if done]
    assert all(h for h in finished)  # every rollout's steps went through NGINX
