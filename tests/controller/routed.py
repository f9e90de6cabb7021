"""Helpers for routed rollouts: a target config for a test router, telemetry by the tick."""

from __future__ import annotations

from typing import Any

from api_helpers import Api, lines
from sentra_adapters.traffic.haproxy import HAProxyRouter
from sentra_adapters.traffic.nginx import NginxRouter

from sentra_ml.store import weight_changes
from sentra_ml.store.schema import Rollout

FAST = {"steps": [5, 25, 100], "min_step_seconds": 4, "max_step_seconds": 900, "harm_budget": 10}


def nginx_target(router: NginxRouter) -> dict[str, Any]:
    return {
        "kind": "nginx",
        "servers_file": str(router.servers_file),
        "servers": {str(c): a for c, a in router.servers.items()},
        "nginx": list(router.nginx),
        "timeout": 5,
    }


def haproxy_target(router: HAProxyRouter, timeout: float = 1.0) -> dict[str, Any]:
    return {
        "kind": "haproxy",
        "socket": router.socket,
        "backend": router.backend,
        "servers": {str(c): s for c, s in router.servers.items()},
        "timeout": timeout,
    }


def backdated(api: Api, seconds: float = 400.0, **fields: Any) -> dict[str, Any]:
    """A rollout created `seconds` ago, so that its telemetry may run ahead of it (the API
    takes no ts more than a minute in the future)."""
    rollout = api.create(**fields)
    with api.app.state.services.sessions() as session, session.begin():
        found = session.get(Rollout, rollout["id"])
        assert found is not None
        found.created_at -= seconds
        rollout["created_at"] = found.created_at
    return rollout


def push_and_judge(api: Api, rid: str, t0: float, ticks: range) -> int:
    """One interval of telemetry (each batch must be taken) and one controller round per
    tick; the lines accepted."""
    accepted = 0
    for k in ticks:
        batch = lines(t0 + 2 * k, 1, 1)
        pushed = api.post(f"/v1/rollouts/{rid}/telemetry", json={"lines": batch})
        assert pushed.status_code == 202, pushed.text
        accepted += len(batch)
        api.judge(t0 + 2 * k + 1)
    return accepted


def drive(
    api: Api, rid: str, t0: float, ticks: int, canary_failed: int = 1, start: int = 0
) -> list[dict[str, Any]]:
    """Push one interval of telemetry and run one controller round, `ticks` times."""
    verdicts = []
    for k in range(start, start + ticks):
        batch = lines(t0 + 2 * k, 1, canary_failed=canary_failed, total=400)
        assert api.post(f"/v1/rollouts/{rid}/telemetry", json={"lines": batch}).status_code in (
            202,
            409,
        )
        api.judge(t0 + 2 * k + 1)
        body = api.get(f"/v1/rollouts/{rid}/verdict").json()
        verdicts.append({"state": body["state"], **(body["verdict"] or {})})
        if body["state"] in ("promoted", "rolled_back", "aborted"):
            break
    return verdicts


def ledger(api: Api, rid: str) -> list[tuple[float, str]]:
    with api.app.state.services.sessions() as session:
        return [
            (c.weight, c.status) for c in weight_changes.history(session=session, rollout_id=rid)
        ]


def row(api: Api, rid: str) -> Rollout:
    with api.app.state.services.sessions() as session:
        found = session.get(Rollout, rid)
        assert found is not None
        return found
