"""ECSRouter against moto in server mode: ALB weights between task sets, capacity moved first."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from aws_server import ECSService, MotoSetup, dead_client, ecs_service, running_moto
from sentra_adapters.errors import Misconfigured, Rejected, Unavailable
from sentra_adapters.traffic.base import Outcome, Verification
from sentra_adapters.traffic.registry import routers

from sentra_ml.analysis.types.labels import Cohort


@pytest.fixture(scope="module")
def moto() -> Iterator[MotoSetup]:
    with running_moto() as setup:
        yield setup


@pytest.fixture(scope="module")
def svc(moto: MotoSetup) -> ECSService:
    return ecs_service(moto)


@pytest.fixture
def calls(moto: MotoSetup, svc: ECSService) -> Iterator[tuple[Any, Any, list[str]]]:
    """An ecs and an elbv2 client that log each write; everything on the baseline after."""
    ecs, elbv2 = moto.client("ecs"), moto.client("elbv2")
    log: list[str] = []

    def record(params: dict[str, Any], model: Any, **_: Any) -> None:
        if model.name == "UpdateTaskSet":
            log.append(f"scale {params['taskSet']} {params['scale']['value']:g}")
        elif model.name == "ModifyListener":
            log.append("shift")

    for client in (ecs, elbv2):
        client.meta.events.register("provide-client-params", record)
    yield ecs, elbv2, log
    router(svc, moto.client("ecs"), moto.client("elbv2")).finalize(Outcome.RESTORE)


def router(svc: ECSService, ecs: Any, elbv2: Any) -> Any:
    return routers.create(
        "aws_ecs",
        cluster=svc.cluster,
        service=svc.service,
        task_sets=svc.task_sets,
        listener_arn=svc.alb.listener_arn,
        ecs_client=ecs,
        elbv2_client=elbv2,
    )


def scales(ecs: Any, svc: ECSService) -> dict[str, float]:
    sets = ecs.describe_task_sets(cluster=svc.cluster, service=svc.service)["taskSets"]
    return {s["externalId"]: s["scale"]["value"] for s in sets}


def test_capacity_moves_before_traffic_comes_and_after_it_leaves(
    calls: tuple[Any, Any, list[str]], svc: ECSService
) -> None:
    ecs, elbv2, log = calls
    r = router(svc, ecs, elbv2)
    base, canary = svc.task_sets["baseline"], svc.task_sets["canary"]
    r.set_weights({"baseline": 80, "canary": 20})
    assert log == [f"scale {canary} 20", "shift", f"scale {base} 80"]
    assert scales(ecs, svc) == {"baseline": 80, "canary": 20}
    assert r.get_weights()[Cohort.CANARY] == pytest.approx(20)
    assert r.verify({"baseline": 80, "canary": 20}) is Verification.CONFIRMED
    log.clear()
    r.set_weights({"baseline": 95, "canary": 5})  # back towards the baseline
    assert log == [f"scale {base} 95", "shift", f"scale {canary} 5"]


def test_too_little_capacity_is_a_mismatch(
    calls: tuple[Any, Any, list[str]], svc: ECSService
) -> None:
    ecs, elbv2, _ = calls
    r = router(svc, ecs, elbv2)
    r.set_weights({"baseline": 50, "canary": 50})
    ecs.update_task_set(
        cluster=svc.cluster,
        service=svc.service,
        taskSet=svc.task_sets["canary"],
        scale={"unit": "PERCENT", "value": 10.0},
    )
    assert r.verify({"baseline": 50, "canary": 50}) is Verification.MISMATCH


def test_promotion_makes_the_canary_primary(
    calls: tuple[Any, Any, list[str]], svc: ECSService
) -> None:
    ecs, elbv2, _ = calls
    router(svc, ecs, elbv2).finalize(Outcome.PROMOTE)
    assert scales(ecs, svc) == {"baseline": 0, "canary": 100}
    sets = ecs.describe_task_sets(cluster=svc.cluster, service=svc.service)["taskSets"]
    assert {s["externalId"]: s["status"] for s in sets}["canary"] == "PRIMARY"


def test_bad_weights_are_rejected_before_any_request(moto: MotoSetup, svc: ECSService) -> None:
    ecs, elbv2 = moto.client("ecs"), moto.client("elbv2")
    sent: list[str] = []
    for client in (ecs, elbv2):
        client.meta.events.register("before-send", lambda request, **_: sent.append(request.url))
    for weights in ({"baseline": 99.95, "canary": 0.05}, {"baseline": -1, "canary": 101}):
        with pytest.raises(Rejected, match=r"^aws_ecs: weights: "):
            router(svc, ecs, elbv2).set_weights(weights)
    assert sent == []


def test_an_unknown_task_set_or_service_is_a_configuration_error(
    moto: MotoSetup, svc: ECSService
) -> None:
    ecs, elbv2 = moto.client("ecs"), moto.client("elbv2")
    stray = routers.create(
        "aws_ecs",
        cluster=svc.cluster,
        service=svc.service,
        task_sets={**svc.task_sets, "canary": "ecs-svc/0"},
        listener_arn=svc.alb.listener_arn,
        ecs_client=ecs,
        elbv2_client=elbv2,
    )
    with pytest.raises(Misconfigured, match=r"^aws_ecs: service app: no task set of \['canary'\]"):
        stray.get_weights()
    gone = routers.create(
        "aws_ecs",
        cluster=svc.cluster,
        service="gone",
        task_sets=svc.task_sets,
        listener_arn=svc.alb.listener_arn,
        ecs_client=ecs,
        elbv2_client=elbv2,
    )
    with pytest.raises(Misconfigured, match=r"^aws_ecs: describe_task_sets: ServiceNotFound"):
        gone.get_weights()


def test_an_unreachable_endpoint_is_unavailable() -> None:
    r = routers.create(
        "aws_ecs",
        cluster="c",
        service="s",
        task_sets={"baseline": "a", "canary": "b"},
        listener_arn="arn:l",
        ecs_client=dead_client("ecs"),
        elbv2_client=dead_client("elbv2"),
    )
    with pytest.raises(Unavailable, match=r"^aws_ecs: describe_task_sets: Could not connect"):
        r.set_weights({"baseline": 90, "canary": 10})
