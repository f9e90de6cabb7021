"""GatewayRouter with the official client against the local API server: HTTPRoute weights,
resourceVersion conflicts and retries, Gateway status, typed errors."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from adapter_servers import free_port
from aws_server import answering
from fake_kube_api import (
    NAMESPACE,
    ROUTE_PATH,
    SERVICES,
    FakeKubeAPI,
    accept_route,
    httproute,
    kube_client,
    running_kube_api,
)
from kubernetes import client as k8s
from sentra_adapters.errors import BadResponse, Conflict, Misconfigured, Rejected, Unavailable
from sentra_adapters.traffic.base import Outcome, Verification
from sentra_adapters.traffic.k8s.api import call
from sentra_adapters.traffic.registry import routers

from sentra_ml.analysis.types.labels import Cohort


@pytest.fixture(scope="module")
def server() -> Iterator[FakeKubeAPI]:
    with running_kube_api() as api:
        yield api


@pytest.fixture
def api(server: FakeKubeAPI) -> FakeKubeAPI:
    httproute(server)  # every test starts from all traffic on the baseline
    server.requests.clear()
    server.before_write.clear()
    return server


def router(url: str, **config: Any) -> Any:
    config = {"route": "app", "namespace": NAMESPACE, "services": SERVICES, **config}
    return routers.create("gateway_api", host=url, **config)


def refs(api: FakeKubeAPI) -> list[list[tuple[str, int]]]:
    rules = api.get(ROUTE_PATH)["spec"]["rules"]
    return [[(r["name"], r["weight"]) for r in rule["backendRefs"]] for rule in rules]


def calls(api: FakeKubeAPI) -> list[str]:
    return [r.split(" ")[0] + " " + r.split(" ")[-1] for r in api.requests]


@pytest.mark.parametrize(
    ("canary", "ints"),
    [(0, (1, 0)), (0.01, (9999, 1)), (12.5, (7, 1)), (50, (1, 1)), (99.99, (1, 9999)),
     (100, (0, 1))],
)  # fmt: skip
def test_every_owned_rule_gets_the_weights_and_nothing_else_changes(
    api: FakeKubeAPI, canary: float, ints: tuple[int, int]
) -> None:
    before = api.get(ROUTE_PATH)
    r = router(api.url)
    r.set_weights({"baseline": 100 - canary, "canary": canary})
    wanted = [("app-v1", ints[0]), ("app-v2", ints[1])]
    assert refs(api) == [wanted, wanted]
    assert r.get_weights()[Cohort.CANARY] == pytest.approx(canary, abs=1e-9)
    after = api.get(ROUTE_PATH)
    assert after["metadata"]["labels"] == before["metadata"]["labels"]
    assert after["spec"]["rules"][0]["matches"] == before["spec"]["rules"][0]["matches"]
    assert after["spec"]["rules"][1]["filters"] == []
    assert after["spec"]["rules"][0]["backendRefs"][1]["kind"] == "Service"


def test_each_write_is_a_put_under_the_version_just_read(api: FakeKubeAPI) -> None:
    r = router(api.url)
    version = api.get(ROUTE_PATH)["metadata"]["resourceVersion"]
    r.set_weights({"baseline": 90, "canary": 10})
    assert calls(api) == ["GET 200", "PUT 200"]
    assert int(api.get(ROUTE_PATH)["metadata"]["resourceVersion"]) == int(version) + 1
    api.requests.clear()
    r.set_weights({"baseline": 90, "canary": 10})  # already held: no write, no new version
    assert calls(api) == ["GET 200"]


def test_a_concurrent_write_is_reread_and_kept_not_overwritten(api: FakeKubeAPI) -> None:
    def other_writer(a: FakeKubeAPI) -> None:
        a.edit(ROUTE_PATH, lambda route: route["metadata"]["labels"].update(owner="someone"))

    api.before_write.append(other_writer)
    router(api.url).set_weights({"baseline": 80, "canary": 20})
    assert calls(api) == ["GET 200", "PUT 409", "GET 200", "PUT 200"]
    stored = api.get(ROUTE_PATH)
    assert stored["metadata"]["labels"] == {"team": "shop", "owner": "someone"}
    assert refs(api)[0] == [("app-v1", 4), ("app-v2", 1)]


def test_a_route_changing_on_every_try_is_a_conflict_after_the_bounded_attempts(
    api: FakeKubeAPI,
) -> None:
    def other_writer(a: FakeKubeAPI) -> None:
        a.edit(
            ROUTE_PATH, lambda route: route["metadata"]["labels"].update(n="x" * len(a.requests))
        )

    api.before_write.extend([other_writer] * 3)
    with pytest.raises(Conflict, match=r"^gateway_api: HTTPRoute shop/app changed .* 3 tries"):
        router(api.url, attempts=3).set_weights({"baseline": 80, "canary": 20})
    assert calls(api).count("PUT 409") == 3 and "PUT 200" not in calls(api)
    assert refs(api)[0] == [("app-v1", 1), ("app-v2", 0)]


def test_a_concurrent_change_to_the_wanted_weights_needs_no_second_write(
    api: FakeKubeAPI,
) -> None:
    def same_weights(a: FakeKubeAPI) -> None:
        def change(route: dict[str, Any]) -> None:
            for rule in route["spec"]["rules"]:
                rule["backendRefs"][0]["weight"], rule["backendRefs"][1]["weight"] = 70, 30

        a.edit(ROUTE_PATH, change)

    api.before_write.append(same_weights)
    router(api.url).set_weights({"baseline": 70, "canary": 30})
    assert calls(api) == ["GET 200", "PUT 409", "GET 200"]
    assert refs(api)[0] == [("app-v1", 70), ("app-v2", 30)]


def test_a_foreign_backend_in_an_owned_rule_is_refused_without_a_write(
    server: FakeKubeAPI,
) -> None:
    foreign = {"backendRefs": [{"name": "app-v1", "weight": 1}, {"name": "legacy", "weight": 1}]}
    httproute(server, extra_rule=foreign)
    server.requests.clear()
    with pytest.raises(Conflict, match=r"rule 2 routes to \['app-v1', 'legacy'\]"):
        router(server.url).set_weights({"baseline": 50, "canary": 50})
    assert calls(server) == ["GET 200"]


def test_rules_of_other_services_are_left_alone(server: FakeKubeAPI) -> None:
    other = {"backendRefs": [{"name": "search", "port": 80, "weight": 3}]}
    httproute(server, extra_rule=other)
    router(server.url).set_weights({"baseline": 50, "canary": 50})
    assert refs(server)[2] == [("search", 3)]


def test_rules_that_disagree_are_a_conflict_until_set_again(api: FakeKubeAPI) -> None:
    api.edit(ROUTE_PATH, lambda route: route["spec"]["rules"][1]["backendRefs"][1].update(weight=5))
    r = router(api.url)
    with pytest.raises(Conflict, match="its rules split traffic differently"):
        r.get_weights()
    r.set_weights({"baseline": 100, "canary": 0})  # rule 0 holds it already, rule 1 does not
    assert refs(api) == [[("app-v1", 1), ("app-v2", 0)]] * 2


def test_verify_follows_the_gateway_status_of_the_current_generation(api: FakeKubeAPI) -> None:
    r = router(api.url)
    r.set_weights({"baseline": 90, "canary": 10})
    assert r.verify({"baseline": 90, "canary": 10}) is Verification.UNSUPPORTED  # no status yet
    accept_route(api)
    assert r.verify({"baseline": 90, "canary": 10}) is Verification.CONFIRMED
    assert r.verify({"baseline": 80, "canary": 20}) is Verification.MISMATCH
    r.set_weights({"baseline": 80, "canary": 20})  # a new generation the Gateway has not seen
    assert api.get(ROUTE_PATH)["status"]["parents"]  # the write kept the status
    assert r.verify({"baseline": 80, "canary": 20}) is Verification.MISMATCH
    accept_route(api)
    assert r.verify({"baseline": 80, "canary": 20}) is Verification.CONFIRMED


@pytest.mark.parametrize("outcome", list(Outcome))
def test_finalize(api: FakeKubeAPI, outcome: Outcome) -> None:
    r = router(api.url)
    r.set_weights({"baseline": 50, "canary": 50})
    r.finalize(outcome)
    winner = Cohort.CANARY if outcome is Outcome.PROMOTE else Cohort.BASELINE
    assert r.get_weights()[winner] == 100


def test_a_missing_route_or_unused_services_are_configuration_errors(api: FakeKubeAPI) -> None:
    with pytest.raises(
        Misconfigured, match=r'^gateway_api: get HTTPRoute shop/nope: HTTP 404: "nope" not found'
    ):
        router(api.url, route="nope").get_weights()
    with pytest.raises(Misconfigured, match=r"routes to neither \['a', 'b'\]"):
        router(api.url, services={"baseline": "a", "canary": "b"}).set_weights(
            {"baseline": 50, "canary": 50}
        )


def test_the_api_servers_refusals_are_typed(api: FakeKubeAPI) -> None:
    custom = k8s.CustomObjectsApi(kube_client(api.url))
    route = api.get(ROUTE_PATH)
    route["spec"]["rules"][0]["backendRefs"][1]["weight"] = -5
    args = ("gateway.networking.k8s.io", "v1", NAMESPACE, "httproutes", "app")
    with pytest.raises(Rejected, match=r"^t: put: HTTP 422: .*weight: Invalid value: -5"):
        call("t", "put", custom.replace_namespaced_custom_object, *args, route)
    # the client's default for a custom object is merge-patch; strategic merge is refused
    with pytest.raises(Rejected, match="HTTP 415"):
        call("t", "patch", custom.patch_namespaced_custom_object, *args, {"spec": {}},
             _content_type="application/strategic-merge-patch+json")  # fmt: skip
    stale = [{"op": "test", "path": "/metadata/resourceVersion", "value": "1"}]
    with pytest.raises(Rejected, match=r"HTTP 422: testing value /metadata/resourceVersion"):
        call("t", "patch", custom.patch_namespaced_custom_object, *args, stale,
             _content_type="application/json-patch+json")  # fmt: skip
    precondition = {"metadata": {"resourceVersion": "1", "labels": {"x": "y"}}}
    with pytest.raises(Conflict, match="HTTP 409: Operation cannot be fulfilled"):
        call("t", "patch", custom.patch_namespaced_custom_object, *args, precondition)
    assert api.get(ROUTE_PATH)["metadata"]["labels"] == {"team": "shop"}


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        (503, b'{"kind":"Status","message":"etcd is down","code":503}', Unavailable),
        (
            403,
            b'{"kind":"Status","message":"forbidden","code":403}',
            Misconfigured,
        ),
        (200, b"<html>proxy login</html>", BadResponse),
        (200, json.dumps({"spec": {"rules": []}}).encode(), BadResponse),
    ],
)
def test_unusable_answers_are_typed_errors(status: int, body: bytes, error: type) -> None:
    headers = {"Content-Type": "application/json"}
    with answering(status, headers, body) as stub, pytest.raises(error, match=r"^gateway_api: "):
        router(stub.endpoint).set_weights({"baseline": 90, "canary": 10})


def test_a_dead_api_server_is_unavailable() -> None:
    with pytest.raises(Unavailable, match=r"^gateway_api: get HTTPRoute shop/app: .*refused"):
        router(f"http://127.0.0.1:{free_port()}").get_weights()


def test_bad_configuration_is_refused() -> None:
    with pytest.raises(Misconfigured, match="must differ"):
        router("http://127.0.0.1:1", services={"baseline": "a", "canary": "a"})
    with pytest.raises(Misconfigured, match="attempts"):
        router("http://127.0.0.1:1", attempts=0)


def test_no_host_and_no_credentials_is_a_configuration_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "missing"))
    with pytest.raises(Misconfigured, match=r"^gateway_api: no cluster credentials"):
        routers.create("gateway_api", route="app", services=SERVICES)
