"""No rollout is ever left without a fresh verdict: a judge that raises counts as no verdict
(pause, then rollback after the grace period), a source that cannot answer lets the telemetry
go stale (pause, then rollback), and a replica that lost its lease can write nothing."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, ClassVar

import pytest
from api_helpers import Api, lines
from routed import backdated, row
from sentra_adapters.errors import Unavailable
from sentra_adapters.telemetry.base import Window
from sentra_adapters.telemetry.registry import sources

from sentra_ml.analysis.types.labels import Cohort
from sentra_ml.analysis.types.samples import RatioSample
from sentra_ml.compose import controller_on
from sentra_ml.store import fences, keys

GRACE = {"stale_after_seconds": 4, "grace_seconds": 6}


def _verdict(api: Api, rid: str) -> dict[str, Any]:
    return dict(api.get(f"/v1/rollouts/{rid}/verdict").json())


def test_a_judge_that_raises_pauses_then_rolls_back_with_an_event_and_a_metric(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    rollout = backdated(api, 100, **GRACE)
    rid, t0 = rollout["id"], rollout["created_at"]
    api.post(f"/v1/rollouts/{rid}/telemetry", json={"lines": lines(t0, 1, 1)})
    api.judge(t0 + 1)
    tracked = api.controller.tracked(rid)
    assert tracked is not None

    def broken(now: float) -> Any:
        raise ValueError("both ngood and nbad must be less than 1000000000")

    monkeypatch.setattr(tracked.session.judge, "evaluate", broken)
    seen = []
    for k in range(1, 10):
        api.judge(t0 + 1 + 2 * k)
        body = _verdict(api, rid)
        seen.append((body["state"], body["verdict"]["action"]))
        assert body["verdict"]["ts"] == t0 + 1 + 2 * k  # fresh every tick, never frozen
        if body["state"] == "rolled_back":
            break
    assert seen[0] == ("running", "pause")
    assert seen[-1] == ("rolled_back", "rollback")
    assert len(seen) == 6  # 10 s (stale + grace) after the first failure
    events = api.get(f"/v1/rollouts/{rid}/events").json()["items"]
    assert any(e["kind"] == "judging_error" and "ngood" in e["reason"] for e in events)
    assert "sentra_judging_errors_total 6.0" in api.client.get("/metrics").text


class ListSource:
    """A telemetry source over samples in memory; `down` makes it raise Unavailable."""

    kind: ClassVar[str] = "memory"
    samples: ClassVar[list[RatioSample]] = []
    down: ClassVar[bool] = False

    def __init__(self, **_: Any) -> None:
        pass

    def metrics(self) -> Sequence[str]:
        return ["errors"]

    def fetch(self, metric: str, cohort: Cohort, start: float, end: float) -> Window:
        if self.down:
            raise Unavailable("memory", "connection refused")
        found = [s for s in self.samples if s.cohort is cohort and start <= s.ts <= end]
        return Window(metric, cohort, start, end, tuple(found))


def test_pulled_telemetry_is_judged_and_a_dead_source_fails_safe(api: Api) -> None:
    if "memory" not in sources.kinds():  # a plugin, as an entry point would add one
        sources.register("memory", ListSource)
    svc = api.app.state.services
    controller = controller_on(svc, own_metrics=True)
    metrics = [{"name": "errors", "kind": "ratio", "critical": True, "tolerance": 0.2}]
    rollout = backdated(api, 200, metrics=metrics, source={"kind": "memory"}, **GRACE)
    rid, t0 = rollout["id"], rollout["created_at"]
    ListSource.samples = [
        RatioSample(t0 + 2 * k, c, "errors", 400.0, 60.0 if c is Cohort.CANARY else 4.0)
        for k in range(1, 40)
        for c in Cohort
    ]
    for k in range(1, 10):
        controller.tick(row(api, rid), t0 + 2 * k + 1)
    verdict = _verdict(api, rid)
    assert verdict["state"] == "rolled_back", verdict  # pulled errors judged like pushed ones

    ListSource.down = True
    try:
        quiet = backdated(api, 200, metrics=metrics, source={"kind": "memory"}, **GRACE)
        qid, q0 = quiet["id"], quiet["created_at"]
        actions = []
        for k in range(1, 12):
            controller.tick(row(api, qid), q0 + 2 * k)
            actions.append(_verdict(api, qid)["verdict"]["action"])
        assert "pause" in actions and actions[-1] == "rollback"
    finally:
        ListSource.down = False
        controller.close()


def test_a_replica_that_lost_its_lease_writes_nothing(api: Api) -> None:
    rollout = backdated(api, 100)
    rid, t0 = rollout["id"], rollout["created_at"]
    api.post(f"/v1/rollouts/{rid}/telemetry", json={"lines": lines(t0, 1, 1)})
    assert api.judge(t0 + 1) == 1
    svc = api.app.state.services
    other = controller_on(svc, own_metrics=True)
    # the first replica stalls past its lease; the other takes over with a newer token
    svc.bus.release(keys.lease(rid), api.controller.replica)
    assert other.tick(row(api, rid), t0 + 3) is not None
    stale = api.controller.tracked(rid)
    assert stale is not None and stale.token < other.leases._tokens[rid]
    with svc.sessions() as session, session.begin(), pytest.raises(fences.LeaseLost):
        fences.locked(session=session, rollout_id=rid, token=stale.token)
    # its renewal fails too, so it hands the rollout over instead of judging it
    assert api.judge(t0 + 5) == 0 and api.controller.tracked(rid) is None
    other.close()
    assert math.isfinite(float(_verdict(api, rid)["verdict"]["ts"]))
