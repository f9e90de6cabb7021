"""The service's learner in the live service: it learns each rollout's baseline, is saved (file
or Redis), carries over to the next rollout of the service, and a takeover replays it exactly."""

from __future__ import annotations

import uuid

from api_helpers import METRICS, Api, lines  # type: ignore[import-not-found]

from sentra_ml.analysis.anomaly import ServiceLearner
from sentra_ml.compose import controller_on
from sentra_ml.simulate import learned_history, scenario_library
from sentra_ml.store import keys
from sentra_ml.store.schema import Rollout

HOLD = {"steps": [1, 5, 100], "min_step_seconds": 1000, "max_step_seconds": 5000}


def _feed(api: Api, rid: str, t0: float, intervals: int) -> dict:  # type: ignore[type-arg]
    for k in range(intervals):
        batch = lines(t0 + 2 * k, 1, canary_failed=1, total=100)
        assert api.post(f"/v1/rollouts/{rid}/telemetry", json={"lines": batch}).status_code == 202
        api.judge(t0 + 2 * k + 1)
    return dict(api.get(f"/v1/rollouts/{rid}/verdict").json()["verdict"])


def test_the_learner_carries_over_to_the_next_rollout_of_the_service(api: Api) -> None:
    service = f"svc-{uuid.uuid4().hex[:12]}"
    first = api.create(service=service, policy=HOLD)
    verdict = _feed(api, first["id"], first["created_at"] - 100, 40)  # 80 s of telemetry
    anomaly = verdict["anomaly"]
    assert anomaly["learned"] >= 6 and not anomaly["warm"]  # one window per >= 10 s
    assert anomaly["baseline"] is not None and not anomaly["baseline_flag"]
    saved = api.app.state.services.learners.load(service)
    assert saved is not None and ServiceLearner.from_bytes(saved).n >= 4  # saved every 60 s

    second = api.create(service=service, policy=HOLD)
    again = _feed(api, second["id"], second["created_at"], 1)
    assert again["anomaly"]["learned"] >= ServiceLearner.from_bytes(saved).n

    other = api.create(service=service + "-other", policy=HOLD)
    assert _feed(api, other["id"], other["created_at"], 1)["anomaly"]["learned"] == 0


def test_a_takeover_replays_from_the_checkpoint_the_rollout_started_with(api: Api) -> None:
    rollout = api.create(service=f"svc-{uuid.uuid4().hex[:12]}", policy=HOLD)
    rid, t0 = rollout["id"], rollout["created_at"] - 100
    before = _feed(api, rid, t0, 40)
    svc = api.app.state.services
    fresh = controller_on(svc, own_metrics=True)
    svc.bus.release(keys.lease(rid), api.controller.replica)  # the old replica's lease ran out
    with svc.sessions() as session:
        row = session.get(Rollout, rid)
        assert row is not None
        after = fresh.tick(row, t0 + 2 * 39 + 1)
    assert after is not None
    # the saved checkpoint already holds this rollout's windows: replaying onto it would
    # learn them twice
    assert after["anomaly"]["learned"] == before["anomaly"]["learned"]


def test_an_unreadable_checkpoint_starts_the_service_afresh(api: Api) -> None:
    service = f"svc-{uuid.uuid4().hex[:12]}"
    api.app.state.services.learners.save(service, b"not a checkpoint")
    rollout = api.create(service=service, policy=HOLD)
    verdict = _feed(api, rollout["id"], rollout["created_at"], 2)
    assert verdict["anomaly"]["learned"] == 0 and verdict["action"] == "continue"


def test_a_one_shot_verdict_reads_the_service_learner_and_never_changes_it(api: Api) -> None:
    service = f"svc-{uuid.uuid4().hex[:12]}"
    store = api.app.state.services.learners
    checkpoint = learned_history(scenario_library()["aa"], 1.0, seed=3).to_bytes()
    store.save(service, checkpoint)
    body = {"spec": {"service": service, "metrics": METRICS}, "lines": lines(1000.0, 20, 1)}
    verdict = api.post("/v1/verdicts", json=body).json()
    anomaly = verdict["anomaly"]
    assert anomaly["warm"] and anomaly["learned"] >= ServiceLearner.from_bytes(checkpoint).n
    assert anomaly["canary"] is not None  # the 40 s window was scored against the service
    assert store.load(service) == checkpoint
    unknown = {"spec": {"service": service + "-new", "metrics": METRICS}, "lines": body["lines"]}
    assert api.post("/v1/verdicts", json=unknown).json()["anomaly"] is None
