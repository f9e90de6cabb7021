"""ReplicaRatioRouter with the official client against the local API server: replica counts,
rising Deployment first, resourceVersion preconditions, rollout status, typed errors."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fake_kube_api import (
    DEPLOYMENTS,
    NAMESPACE,
    FakeKubeAPI,
    deployment_path,
    deployments,
    roll_out,
    running_kube_api,
)
from sentra_adapters.errors import Conflict, Misconfigured, Rejected
from sentra_adapters.traffic.base import Outcome, Verification
from sentra_adapters.traffic.registry import routers

from sentra_ml.analysis.types.labels import Cohort


@pytest.fixture(scope="module")
def server() -> Iterator[FakeKubeAPI]:
    with running_kube_api() as api:
        yield api


@pytest.fixture
def api(server: FakeKubeAPI) -> FakeKubeAPI:
    deployments(server, baseline=10, canary=0)
    server.requests.clear()
    server.before_write.clear()
    return server


def router(url: str, **config: Any) -> Any:
    config = {"deployments": DEPLOYMENTS, "replicas": 10, "namespace": NAMESPACE, **config}
    return routers.create("k8s_replicas", host=url, **config)


def counts(api: FakeKubeAPI) -> tuple[int, int]:
    b, c = (api.get(deployment_path(n))["spec"]["replicas"] for n in DEPLOYMENTS.values())
    return b, c


def writes(api: FakeKubeAPI) -> list[str]:
    return [r.split(" ")[1].rsplit("/", 1)[-1] for r in api.requests if r.startswith("PATCH")]


@pytest.mark.parametrize(("canary", "pods"), [(0, (10, 0)), (10, (9, 1)), (50, (5, 5)),
                                              (100, (0, 10))])  # fmt: skip
def test_the_canary_share_is_its_share_of_the_pods(
    api: FakeKubeAPI, canary: int, pods: tuple[int, int]
) -> None:
    r = router(api.url)
    r.set_weights({"baseline": 100 - canary, "canary": canary})
    assert counts(api) == pods
    assert r.get_weights()[Cohort.CANARY] == canary


def test_the_rising_deployment_is_scaled_first(api: FakeKubeAPI) -> None:
    r = router(api.url)
    r.set_weights({"baseline": 70, "canary": 30})
    assert writes(api) == ["app-v2", "app-v1"]  # capacity never drops below 10 pods
    api.requests.clear()
    r.set_weights({"baseline": 90, "canary": 10})
    assert writes(api) == ["app-v1", "app-v2"]
    api.requests.clear()
    r.set_weights({"baseline": 90, "canary": 10})
    assert writes(api) == []  # already held


def test_verify_waits_for_the_rollout(api: FakeKubeAPI) -> None:
    r = router(api.url)
    r.set_weights({"baseline": 80, "canary": 20})
    assert r.verify({"baseline": 80, "canary": 20}) is Verification.MISMATCH  # pods not ready
    roll_out(api)
    assert r.verify({"baseline": 80, "canary": 20}) is Verification.CONFIRMED
    assert r.verify({"baseline": 70, "canary": 30}) is Verification.MISMATCH


def test_a_concurrent_scale_is_reread_not_overwritten_blindly(api: FakeKubeAPI) -> None:
    def autoscaler(a: FakeKubeAPI) -> None:
        a.edit(deployment_path("app-v2"), lambda d: d["metadata"].update(labels={"hpa": "x"}))

    api.before_write.append(autoscaler)
    router(api.url).set_weights({"baseline": 60, "canary": 40})
    assert counts(api) == (6, 4)
    assert api.get(deployment_path("app-v2"))["metadata"]["labels"] == {"hpa": "x"}
    patches = [r.split(" ")[-1] for r in api.requests if r.startswith("PATCH")]
    assert patches == ["409", "200", "200"]  # one re-read, then both Deployments


def test_a_deployment_changing_on_every_try_is_a_conflict(api: FakeKubeAPI) -> None:
    def other(a: FakeKubeAPI) -> None:
        a.edit(deployment_path("app-v2"), lambda d: d["metadata"].update(labels={"n": "1"}))

    api.before_write.extend([other] * 2)
    with pytest.raises(Conflict, match=r"^k8s_replicas: Deployment shop/app-v2 changed"):
        router(api.url, attempts=2).set_weights({"baseline": 60, "canary": 40})
    assert counts(api) == (10, 0)


@pytest.mark.parametrize("outcome", list(Outcome))
def test_finalize(api: FakeKubeAPI, outcome: Outcome) -> None:
    r = router(api.url)
    r.set_weights({"baseline": 50, "canary": 50})
    r.finalize(outcome)
    assert counts(api) == ((0, 10) if outcome is Outcome.PROMOTE else (10, 0))


def test_weights_finer_than_one_pod_are_rejected(api: FakeKubeAPI) -> None:
    with pytest.raises(Rejected, match="finer than the 10 % resolution"):
        router(api.url).set_weights({"baseline": 95, "canary": 5})
    assert api.requests == []


def test_a_missing_deployment_and_bad_configuration_are_refused(api: FakeKubeAPI) -> None:
    with pytest.raises(Misconfigured, match=r"get Deployment shop/gone: HTTP 404"):
        router(api.url, deployments={"baseline": "app-v1", "canary": "gone"}).get_weights()
    for replicas in (0, 101, 2.5, True):
        with pytest.raises(Misconfigured, match="replicas: must be an integer in 1-100"):
            router(api.url, replicas=replicas)
