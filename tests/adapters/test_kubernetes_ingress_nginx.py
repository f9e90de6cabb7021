"""IngressNginxRouter with the official client against the local API server: canary-weight
annotations by JSON Patch under a resourceVersion precondition, conflicts, typed errors."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from adapter_servers import free_port
from fake_kube_api import (
    INGRESSES,
    NAMESPACE,
    FakeKubeAPI,
    canary_ingresses,
    ingress_path,
    kube_client,
    running_kube_api,
)
from kubernetes import client as k8s
from sentra_adapters.errors import BadResponse, Conflict, Misconfigured, Rejected, Unavailable
from sentra_adapters.traffic.base import Outcome, Verification
from sentra_adapters.traffic.k8s.api import JSON_PATCH, call
from sentra_adapters.traffic.registry import routers

from sentra_ml.analysis.types.labels import Cohort

CANARY = ingress_path(INGRESSES["canary"])
WEIGHT = "nginx.ingress.kubernetes.io/canary-weight"


@pytest.fixture(scope="module")
def server() -> Iterator[FakeKubeAPI]:
    with running_kube_api() as api:
        yield api


@pytest.fixture
def api(server: FakeKubeAPI) -> FakeKubeAPI:
    canary_ingresses(server)  # every test starts from a canary at weight 0
    server.requests.clear()
    server.before_write.clear()
    return server


def router(url: str, **config: Any) -> Any:
    config = {"ingresses": INGRESSES, "namespace": NAMESPACE, **config}
    return routers.create("ingress_nginx", host=url, **config)


def annotations_of(api: FakeKubeAPI, path: str = CANARY) -> dict[str, str]:
    return dict(api.get(path)["metadata"]["annotations"])


def calls(api: FakeKubeAPI) -> list[str]:
    return [r.split(" ")[0] + " " + r.split(" ")[-1] for r in api.requests]


@pytest.mark.parametrize("canary", [0, 1, 10, 50, 99, 100])
def test_the_canary_share_is_the_canary_weight_annotation(api: FakeKubeAPI, canary: int) -> None:
    r = router(api.url)
    weights = {"baseline": 100 - canary, "canary": canary}
    r.set_weights(weights)
    held = annotations_of(api)
    assert held[WEIGHT] == str(canary)
    assert held["kubernetes.io/description"] == "shop"  # other annotations are kept
    assert "nginx.ingress.kubernetes.io/canary" not in annotations_of(api, ingress_path("app"))
    assert r.get_weights() == {Cohort.BASELINE: 100 - canary, Cohort.CANARY: canary}
    assert r.verify(weights) is Verification.UNSUPPORTED  # ingress-nginx does not report it
    other = {"baseline": 50, "canary": 50} if canary != 50 else {"baseline": 0, "canary": 100}
    assert r.verify(other) is Verification.MISMATCH


def test_the_write_is_a_json_patch_with_the_version_as_precondition(api: FakeKubeAPI) -> None:
    router(api.url).set_weights({"baseline": 75, "canary": 25})
    assert [r.split(" ")[0] for r in api.requests] == ["GET", "PATCH"]
    assert "application/json-patch+json" in api.requests[1]
    api.requests.clear()
    router(api.url).set_weights({"baseline": 75, "canary": 25})
    assert calls(api) == ["GET 200"]  # already held: no write


def test_a_concurrent_write_is_reread_and_kept(api: FakeKubeAPI) -> None:
    def other_writer(a: FakeKubeAPI) -> None:
        a.edit(CANARY, lambda ing: ing["metadata"]["annotations"].update(owner="someone"))

    api.before_write.append(other_writer)
    router(api.url).set_weights({"baseline": 90, "canary": 10})
    assert calls(api) == ["GET 200", "PATCH 409", "GET 200", "PATCH 200"]
    assert annotations_of(api)["owner"] == "someone" and annotations_of(api)[WEIGHT] == "10"


def test_an_ingress_changing_on_every_try_is_a_conflict(api: FakeKubeAPI) -> None:
    def other_writer(a: FakeKubeAPI) -> None:
        a.edit(CANARY, lambda ing: ing["metadata"]["annotations"].update(n=str(len(a.requests))))

    api.before_write.extend([other_writer] * 2)
    with pytest.raises(Conflict, match=r"^ingress_nginx: Ingress shop/app-canary changed"):
        router(api.url, attempts=2).set_weights({"baseline": 90, "canary": 10})
    assert annotations_of(api)[WEIGHT] == "0"


def test_a_weight_total_is_read_and_reset_to_the_default(api: FakeKubeAPI) -> None:
    total = {WEIGHT: "125", f"{WEIGHT}-total": "1000"}
    api.edit(CANARY, lambda ing: ing["metadata"]["annotations"].update(total))
    r = router(api.url)
    assert r.get_weights()[Cohort.CANARY] == 12.5
    r.set_weights({"baseline": 80, "canary": 20})
    assert annotations_of(api)[WEIGHT] == "20" and f"{WEIGHT}-total" not in annotations_of(api)


@pytest.mark.parametrize("outcome", list(Outcome))
def test_finalize(api: FakeKubeAPI, outcome: Outcome) -> None:
    r = router(api.url)
    r.set_weights({"baseline": 50, "canary": 50})
    r.finalize(outcome)
    assert annotations_of(api)[WEIGHT] == ("100" if outcome is Outcome.PROMOTE else "0")


def test_an_ingress_that_is_not_a_canary_is_never_written(api: FakeKubeAPI) -> None:
    swapped = {"baseline": INGRESSES["canary"], "canary": INGRESSES["baseline"]}
    with pytest.raises(
        Misconfigured, match=r'Ingress shop/app lacks the annotation .*canary: "true"'
    ):
        router(api.url, ingresses=swapped).set_weights({"baseline": 90, "canary": 10})
    assert calls(api) == ["GET 200"]
    with pytest.raises(Misconfigured, match="Ingress shop/app-canary is itself a canary"):
        router(api.url, ingresses=swapped).verify({"baseline": 90, "canary": 10})


def test_a_missing_ingress_is_a_configuration_error(api: FakeKubeAPI) -> None:
    with pytest.raises(Misconfigured, match=r"get Ingress shop/gone: HTTP 404"):
        router(api.url, ingresses={"baseline": "app", "canary": "gone"}).get_weights()
    with pytest.raises(Misconfigured, match=r"get Ingress shop/gone: HTTP 404"):
        router(api.url, ingresses={"baseline": "gone", "canary": "app-canary"}).verify(
            {"baseline": 100, "canary": 0}
        )


def test_an_admission_refusal_is_rejected(api: FakeKubeAPI) -> None:
    net = k8s.NetworkingV1Api(kube_client(api.url))
    ops = [{"op": "add", "path": "/metadata/annotations/" + WEIGHT.replace("/", "~1"),
            "value": "150"}]  # fmt: skip
    with pytest.raises(Rejected, match=r'HTTP 400: admission webhook "validate.nginx.ingress'):
        call("t", "patch", net.patch_namespaced_ingress, "app-canary", NAMESPACE, ops,
             _content_type=JSON_PATCH)  # fmt: skip
    assert annotations_of(api)[WEIGHT] == "0"


def test_a_weight_sentra_cannot_read_is_a_bad_response(api: FakeKubeAPI) -> None:
    api.edit(CANARY, lambda ing: ing["metadata"]["annotations"].update({WEIGHT: "ten"}))
    with pytest.raises(BadResponse, match=r"^ingress_nginx: .*bad canary weight ten of 100"):
        router(api.url).set_weights({"baseline": 90, "canary": 10})
    assert annotations_of(api)[WEIGHT] == "ten"


def test_a_dead_api_server_is_unavailable() -> None:
    with pytest.raises(Unavailable, match=r"^ingress_nginx: get Ingress shop/app-canary: "):
        router(f"http://127.0.0.1:{free_port()}").set_weights({"baseline": 90, "canary": 10})


def test_whole_percents_only() -> None:
    with pytest.raises(Rejected, match="finer than the 1 % resolution"):
        router("http://127.0.0.1:1").set_weights({"baseline": 99.5, "canary": 0.5})
