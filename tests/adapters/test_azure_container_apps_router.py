"""ContainerAppsRouter with azure-mgmt-appcontainers over TLS against the local ARM: the traffic
weights the app holds, long-running updates, busy apps, typed errors."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from adapter_servers import free_port
from fake_azure import (
    APP,
    APP_FOREIGN,
    APP_REVISIONS,
    RG,
    FakeARM,
    FakeCredential,
    answering_tls,
    azure_router,
    reset,
    running_arm,
)
from sentra_adapters.azure import azure_call
from sentra_adapters.errors import BadResponse, Conflict, Misconfigured, Rejected, Unavailable
from sentra_adapters.traffic.base import Outcome, Verification

from sentra_ml.analysis.types.labels import Cohort

KIND = "azure_container_apps"
BASE, CANARY = APP_REVISIONS["baseline"], APP_REVISIONS["canary"]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[FakeARM, Path]]:
    with running_arm(tmp_path_factory.mktemp("arm")) as setup:
        yield setup


@pytest.fixture
def arm(server: tuple[FakeARM, Path]) -> FakeARM:
    reset(server[0])  # every test starts from all traffic on the baseline
    return server[0]


def router(server: tuple[FakeARM, Path], **config: Any) -> Any:
    return azure_router(KIND, server[0].url, server[1], **config)


def weights(arm: FakeARM) -> dict[str, int]:
    """Weight per revision the app's ingress holds, zeros left out."""
    traffic = arm.apps[APP]["properties"]["configuration"]["ingress"]["traffic"]
    return {t["revisionName"]: t["weight"] for t in traffic if t["weight"]}


def calls(arm: FakeARM) -> list[str]:
    return [r.split(" ")[0] + (" op " if "Operation" in r else " ") + r.split(" ")[-1]
            for r in arm.requests]  # fmt: skip


def busy(arm: FakeARM) -> None:
    arm.apps[APP]["properties"]["provisioningState"] = "InProgress"  # another operation runs


def idle(arm: FakeARM) -> None:
    arm.apps[APP]["properties"]["provisioningState"] = "Succeeded"


@pytest.mark.parametrize("canary", [0, 1, 12, 50, 99, 100])
def test_the_app_holds_the_weights(server: Any, arm: FakeARM, canary: int) -> None:
    r = router(server)
    r.set_weights({"baseline": 100 - canary, "canary": canary})
    assert weights(arm) == {k: v for k, v in {BASE: 100 - canary, CANARY: canary}.items() if v}
    assert r.get_weights()[Cohort.CANARY] == canary
    assert r.verify({"baseline": 100 - canary, "canary": canary}) is Verification.CONFIRMED
    app = arm.apps[APP]
    assert {"revisionName": APP_FOREIGN, "weight": 0, "label": "old"} in (
        app["properties"]["configuration"]["ingress"]["traffic"]
    )
    assert app["tags"] == {"team": "shop"} and app["properties"]["template"]["scale"]


def test_a_write_is_a_merge_patch_of_the_traffic_awaited_by_polling(
    server: Any, arm: FakeARM
) -> None:
    arm.polls = 2
    r = router(server)
    r.set_weights({"baseline": 90, "canary": 10})
    assert calls(arm) == ["GET 200", "PATCH 202", "GET op 202", "GET op 202", "GET op 200"]
    (body,) = arm.bodies
    assert list(body) == ["properties"] and list(body["properties"]["configuration"]) == ["ingress"]
    assert list(body["properties"]["configuration"]["ingress"]) == ["traffic"]
    arm.requests.clear()
    r.set_weights({"baseline": 90, "canary": 10})  # already held: no write
    assert calls(arm) == ["GET 200"]


def test_a_concurrent_change_elsewhere_in_the_app_is_kept(server: Any, arm: FakeARM) -> None:
    def scale_up(a: FakeARM) -> None:  # e.g. an operator raising the replica ceiling
        a.apps[APP]["properties"]["template"]["scale"]["maxReplicas"] = 30

    arm.before_write.append(scale_up)
    router(server).set_weights({"baseline": 80, "canary": 20})
    assert arm.apps[APP]["properties"]["template"]["scale"]["maxReplicas"] == 30
    assert weights(arm) == {BASE: 80, CANARY: 20}


def test_a_split_whose_operation_failed_is_not_taken_as_held(server: Any, arm: FakeARM) -> None:
    r = router(server)
    r.set_weights({"baseline": 90, "canary": 10})
    arm.apps[APP]["properties"]["provisioningState"] = "Failed"
    with pytest.raises(Rejected, match=r"holds this split but its last operation failed"):
        r.set_weights({"baseline": 90, "canary": 10})
    assert r.verify({"baseline": 90, "canary": 10}) is Verification.MISMATCH
    r.set_weights({"baseline": 100, "canary": 0})  # another split is written as usual
    assert weights(arm) == {BASE: 100}


def test_a_busy_app_is_read_again_and_retried(server: Any, arm: FakeARM) -> None:
    arm.before_write.extend([busy, idle])  # another operation, finished before the next write
    router(server).set_weights({"baseline": 80, "canary": 20})
    assert calls(arm) == ["GET 200", "PATCH 409", "GET 200", "PATCH 202", "GET op 202",
                          "GET op 200"]  # fmt: skip
    assert weights(arm) == {BASE: 80, CANARY: 20}


def test_an_app_busy_on_every_try_is_a_conflict(server: Any, arm: FakeARM) -> None:
    arm.before_write.extend([busy] * 2)
    with pytest.raises(Conflict, match=r"^azure_container_apps: .* busy or changed on each of 2"):
        router(server, attempts=2).set_weights({"baseline": 80, "canary": 20})
    assert calls(arm).count("PATCH 409") == 2
    assert weights(arm) == {BASE: 100}


def test_traffic_to_a_foreign_revision_is_refused_without_a_write(
    server: Any, arm: FakeARM
) -> None:
    traffic = arm.apps[APP]["properties"]["configuration"]["ingress"]["traffic"]
    traffic[0]["weight"], traffic[1]["weight"] = 90, 10
    with pytest.raises(Conflict, match=rf"sends 10 % to revision '{APP_FOREIGN}'"):
        router(server).set_weights({"baseline": 50, "canary": 50})
    assert calls(arm) == ["GET 200"]


def test_a_latest_revision_entry_counts_as_the_latest_revision(server: Any, arm: FakeARM) -> None:
    ingress = arm.apps[APP]["properties"]["configuration"]["ingress"]
    ingress["traffic"] = [{"latestRevision": True, "weight": 100}]
    r = router(server)
    assert r.get_weights()[Cohort.CANARY] == 100  # the fake's latest revision is the canary
    r.set_weights({"baseline": 30, "canary": 70})
    assert weights(arm) == {CANARY: 70, BASE: 30}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"activeRevisionsMode": "Single"}, "'Single' revision mode; splitting traffic needs"),
        ({"ingress": None}, "has no ingress"),
    ],
)
def test_an_app_that_cannot_split_is_a_configuration_error(
    server: Any, arm: FakeARM, change: dict[str, Any], message: str
) -> None:
    arm.apps[APP]["properties"]["configuration"].update(change)
    with pytest.raises(Misconfigured, match=rf"^azure_container_apps: .*{message}"):
        router(server).set_weights({"baseline": 50, "canary": 50})
    assert "PATCH" not in " ".join(arm.requests)


@pytest.mark.parametrize("outcome", list(Outcome))
def test_finalize(server: Any, arm: FakeARM, outcome: Outcome) -> None:
    r = router(server)
    r.set_weights({"baseline": 50, "canary": 50})
    r.finalize(outcome)
    assert weights(arm) == {CANARY if outcome is Outcome.PROMOTE else BASE: 100}


def test_the_apis_refusals_are_typed(server: Any, arm: FakeARM) -> None:
    apps = router(server).client.container_apps

    def patch(traffic: list[dict[str, Any]]) -> None:
        body = {"properties": {"configuration": {"ingress": {"traffic": traffic}}}}
        azure_call("t", "update", apps.begin_update, RG, APP, body, polling_interval=0)

    with pytest.raises(Rejected, match=r"HTTP 400: ContainerAppInvalid.*must sum to 100"):
        patch([{"revisionName": BASE, "weight": 60}, {"revisionName": CANARY, "weight": 30}])
    with pytest.raises(Rejected, match=r"revision 'checkout--v9' does not exist"):
        patch([{"revisionName": "checkout--v9", "weight": 100}])
    with pytest.raises(Rejected, match=r"weight 2.5 must be an integer"):
        patch([{"revisionName": BASE, "weight": 97.5}, {"revisionName": CANARY, "weight": 2.5}])
    assert weights(arm) == {BASE: 100}
    with pytest.raises(Rejected, match=r"^azure_container_apps: update .*v9' does not exist"):
        router(server, revisions={"baseline": BASE, "canary": "checkout--v9"}).set_weights(
            {"baseline": 90, "canary": 10}
        )


def test_a_missing_app_is_a_configuration_error(server: Any, arm: FakeARM) -> None:
    with pytest.raises(Misconfigured, match=r"^azure_container_apps: get .*/nope: HTTP 404"):
        router(server, app="nope").get_weights()


def test_refused_credentials_are_a_configuration_error(server: Any, arm: FakeARM) -> None:
    r = router(server, credential=FakeCredential("expired"))
    with pytest.raises(Misconfigured, match=r"credentials refused: InvalidAuthenticationToken"):
        r.get_weights()


def test_a_bearer_token_over_plain_http_is_refused_before_sending(arm: FakeARM) -> None:
    r = azure_router(KIND, arm.url.replace("https", "http"), None)
    with pytest.raises(Misconfigured, match=r"^azure_container_apps: get .*non-TLS"):
        r.get_weights()
    assert arm.requests == []


def test_an_untrusted_certificate_is_unavailable(arm: FakeARM) -> None:
    with pytest.raises(Unavailable, match=r"^azure_container_apps: get .*CERTIFICATE_VERIFY"):
        azure_router(KIND, arm.url, None).get_weights()


def test_an_operation_that_never_finishes_is_unavailable(server: Any, arm: FakeARM) -> None:
    arm.polls = 10**6
    with pytest.raises(Unavailable, match=r"did not finish in 0.3 s"):
        router(server, operation_timeout=0.3).set_weights({"baseline": 90, "canary": 10})


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        (503, {"error": {"code": "ServiceUnavailable", "message": "try later"}}, Unavailable),
        (429, {"error": {"code": "TooManyRequests", "message": "throttled"}}, Unavailable),
        (403, {"error": {"code": "AuthorizationFailed", "message": "no role"}}, Misconfigured),
        (200, {"name": APP}, BadResponse),
        (200, "not an app", BadResponse),
    ],
)
def test_unusable_answers_are_typed_errors(
    tmp_path: Path, status: int, body: Any, error: type
) -> None:
    with (
        answering_tls(tmp_path, status, body) as (url, cert, seen),
        pytest.raises(error, match=r"^azure_container_apps: get container app"),
    ):
        azure_router(KIND, url, cert).set_weights({"baseline": 90, "canary": 10})
    assert len(seen) == 1  # no hidden retries


def test_a_dead_endpoint_is_unavailable() -> None:
    r = azure_router(KIND, f"https://127.0.0.1:{free_port()}", None)
    with pytest.raises(Unavailable, match=r"^azure_container_apps: get .*ServiceRequestError"):
        r.get_weights()


@pytest.mark.parametrize(
    ("config", "message"),
    [({"revisions": {"baseline": BASE, "canary": BASE}}, "must differ"), ({"attempts": 0}, "")],
)
def test_bad_configuration_is_refused(config: dict[str, Any], message: str) -> None:
    with pytest.raises(Misconfigured, match=message or "attempts"):
        azure_router(KIND, "https://127.0.0.1:1", None, **config)


def test_a_server_that_never_answers_is_unavailable_within_the_timeout() -> None:
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        url = f"https://127.0.0.1:{silent.getsockname()[1]}"
        started = time.monotonic()
        with pytest.raises(Unavailable, match=r"^azure_container_apps: get .*Timeout"):
            azure_router(KIND, url, None, timeout=0.3).get_weights()
    assert time.monotonic() - started < 3
