"""CloudRunRouter with the official client (REST) against the local Admin API v2: the traffic
split the service holds, etag conflicts and retries, operations, typed errors."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest
from adapter_servers import free_port
from aws_server import answering
from fake_cloud_run import (
    FOREIGN,
    REVISIONS,
    SERVICE_NAME,
    FakeCloudRun,
    cloud_run_router,
    reset,
    running_cloud_run,
)
from google.auth.credentials import AnonymousCredentials
from google.cloud import run_v2
from sentra_adapters.errors import BadResponse, Conflict, Misconfigured, Rejected, Unavailable
from sentra_adapters.traffic.base import Outcome, Verification
from sentra_adapters.traffic.gcp_cloud_run import cloud_run_error

from sentra_ml.analysis.types.labels import Cohort

BASE, CANARY = REVISIONS["baseline"], REVISIONS["canary"]


@pytest.fixture(scope="module")
def server() -> Iterator[FakeCloudRun]:
    with running_cloud_run() as api:
        yield api


@pytest.fixture
def api(server: FakeCloudRun) -> FakeCloudRun:
    reset(server)  # every test starts from all traffic on the baseline
    return server


def calls(api: FakeCloudRun) -> list[str]:
    return [r.split(" ")[0] + (" op " if "/operations/" in r else " ") + r.split(" ")[-1]
            for r in api.requests]  # fmt: skip


@pytest.mark.parametrize("canary", [0, 1, 12, 50, 99, 100])
def test_the_service_holds_and_serves_the_split(api: FakeCloudRun, canary: int) -> None:
    r = cloud_run_router(api.url)
    weights = {"baseline": 100 - canary, "canary": canary}
    r.set_weights(weights)
    wanted = {k: v for k, v in {BASE: 100 - canary, CANARY: canary}.items() if v}
    assert api.split() == wanted
    assert api.split(key="trafficStatuses") == wanted
    assert r.get_weights()[Cohort.CANARY] == canary
    assert r.verify(weights) is Verification.CONFIRMED
    stored = api.get()
    assert next(t for t in stored["traffic"] if t["revision"] == FOREIGN)["tag"] == "preview"
    assert stored["labels"] == {"team": "shop"} and stored["template"]["containers"]


def test_each_write_patches_traffic_alone_under_the_etag_just_read(api: FakeCloudRun) -> None:
    etag = api.get()["etag"]
    r = cloud_run_router(api.url)
    r.set_weights({"baseline": 90, "canary": 10})
    assert calls(api) == ["GET 200", "PATCH 200", "GET op 200"]
    (patch,) = api.patches
    assert patch["query"]["updateMask"] == ["traffic"]
    assert patch["body"]["etag"] == etag  # quotes and all
    assert patch["query"]["$alt"] == ["json;enum-encoding=int"]
    assert {t["type"] for t in patch["body"]["traffic"]} == {2}  # REVISION, as an integer
    api.requests.clear()
    r.set_weights({"baseline": 90, "canary": 10})  # already held: no write
    assert calls(api) == ["GET 200"]


def test_a_concurrent_write_is_reread_and_kept_not_overwritten(api: FakeCloudRun) -> None:
    api.before_write.append(lambda a: a.edit(SERVICE_NAME, lambda s: s["labels"].update(x="y")))
    cloud_run_router(api.url).set_weights({"baseline": 80, "canary": 20})
    assert calls(api) == ["GET 200", "PATCH 409", "GET 200", "PATCH 200", "GET op 200"]
    assert api.get()["labels"] == {"team": "shop", "x": "y"}
    assert api.split() == {BASE: 80, CANARY: 20}


def test_a_service_changing_on_every_try_is_a_conflict_after_the_bounded_attempts(
    api: FakeCloudRun,
) -> None:
    api.before_write.extend([lambda a: a.edit(SERVICE_NAME, lambda s: None)] * 3)
    with pytest.raises(Conflict, match=rf"^gcp_cloud_run: {SERVICE_NAME} changed .* 3 tries"):
        cloud_run_router(api.url, attempts=3).set_weights({"baseline": 80, "canary": 20})
    assert calls(api).count("PATCH 409") == 3 and "PATCH 200" not in calls(api)
    assert api.split() == {BASE: 100}


def test_a_concurrent_change_to_the_wanted_split_needs_no_second_write(api: FakeCloudRun) -> None:
    def same_split(a: FakeCloudRun) -> None:
        a.edit(SERVICE_NAME, lambda s: s.update(traffic=[
            {"type": "TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION", "revision": BASE, "percent": 70},
            {"type": "TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION", "revision": CANARY, "percent": 30},
        ]))  # fmt: skip

    api.before_write.append(same_split)
    cloud_run_router(api.url).set_weights({"baseline": 70, "canary": 30})
    assert calls(api) == ["GET 200", "PATCH 409", "GET 200"]


def test_traffic_to_a_foreign_revision_is_refused_without_a_write(api: FakeCloudRun) -> None:
    api.edit(SERVICE_NAME, lambda s: s["traffic"][1].update(percent=10))
    api.edit(SERVICE_NAME, lambda s: s["traffic"][0].update(percent=90))
    api.requests.clear()
    r = cloud_run_router(api.url)
    with pytest.raises(Conflict, match=rf"sends 10 % to revision '{FOREIGN}'"):
        r.set_weights({"baseline": 50, "canary": 50})
    assert calls(api) == ["GET 200"]
    with pytest.raises(Conflict):
        r.get_weights()


def test_a_latest_target_counts_as_the_latest_ready_revision(api: FakeCloudRun) -> None:
    latest = [{"type": "TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST", "percent": 100}]
    api.edit(SERVICE_NAME, lambda s: s.update(traffic=latest))
    with pytest.raises(Conflict, match=FOREIGN):  # the fake's latest ready revision
        cloud_run_router(api.url).get_weights()
    api.edit(
        SERVICE_NAME, lambda s: s.update(latestReadyRevision=f"{SERVICE_NAME}/revisions/{BASE}")
    )
    r = cloud_run_router(api.url)
    assert r.get_weights()[Cohort.BASELINE] == 100
    r.set_weights({"baseline": 75, "canary": 25})
    assert api.split() == {BASE: 75, CANARY: 25}
    assert all(t["type"].endswith("REVISION") for t in api.get()["traffic"])


def test_a_missing_revision_fails_the_operation_and_the_old_split_keeps_serving(
    api: FakeCloudRun,
) -> None:
    r = cloud_run_router(api.url, revisions={"baseline": BASE, "canary": "checkout-99999-zzz"})
    with pytest.raises(Rejected, match=r"operation .* failed: INTERNAL: Revision 'checkout-9"):
        r.set_weights({"baseline": 90, "canary": 10})
    assert api.split(key="trafficStatuses") == {BASE: 100}  # what Cloud Run still serves
    assert r.verify({"baseline": 90, "canary": 10}) is Verification.MISMATCH
    with pytest.raises(Rejected, match=r"holds this split but Cloud Run failed to serve it"):
        r.set_weights({"baseline": 90, "canary": 10})  # never "already held" silently
    r.finalize(Outcome.RESTORE)  # a valid split repairs it
    assert cloud_run_router(api.url).verify({"baseline": 100, "canary": 0}) is (
        Verification.CONFIRMED
    )


def test_verify_waits_for_reconciliation(api: FakeCloudRun) -> None:
    r = cloud_run_router(api.url)
    r.set_weights({"baseline": 90, "canary": 10})
    api.edit(SERVICE_NAME, lambda s: None)
    api.services[SERVICE_NAME]["reconciling"] = True
    assert r.verify({"baseline": 90, "canary": 10}) is Verification.MISMATCH
    api.services[SERVICE_NAME]["reconciling"] = False
    assert r.verify({"baseline": 90, "canary": 10}) is Verification.CONFIRMED
    assert r.verify({"baseline": 80, "canary": 20}) is Verification.MISMATCH


def test_an_operation_that_never_finishes_is_unavailable(api: FakeCloudRun) -> None:
    api.polls = 10**6
    r = cloud_run_router(api.url, operation_timeout=0.3, poll_interval=0.05)
    with pytest.raises(Unavailable, match=r"operation .*op-\d+ did not finish in 0.3 s"):
        r.set_weights({"baseline": 90, "canary": 10})


@pytest.mark.parametrize("outcome", list(Outcome))
def test_finalize(api: FakeCloudRun, outcome: Outcome) -> None:
    r = cloud_run_router(api.url)
    r.set_weights({"baseline": 50, "canary": 50})
    r.finalize(outcome)
    assert api.split() == {CANARY if outcome is Outcome.PROMOTE else BASE: 100}


def test_the_apis_refusals_are_typed(api: FakeCloudRun) -> None:
    client = run_v2.ServicesClient(
        credentials=AnonymousCredentials(), transport="rest",
        client_options={"api_endpoint": api.url},
    )  # fmt: skip
    service = client.get_service(name=SERVICE_NAME)

    def update(**changes: Any) -> None:
        request = run_v2.UpdateServiceRequest(service=run_v2.Service(
            name=SERVICE_NAME, etag=changes.pop("etag", service.etag), **changes))  # fmt: skip
        try:
            client.update_service(request=request).result(timeout=5)
        except Exception as e:
            raise cloud_run_error("t", "update", e) from e

    target = run_v2.TrafficTarget
    with pytest.raises(Rejected, match=r"HTTP 400 INVALID_ARGUMENT: .*must sum to 100, got 90"):
        update(traffic=[target(type_=2, revision=BASE, percent=90)])
    with pytest.raises(Rejected, match=r"percent: Invalid value: 150"):
        update(traffic=[target(type_=2, revision=BASE, percent=150)])
    with pytest.raises(Rejected, match=r"revision: Required"):
        update(traffic=[target(type_=2, percent=100)])
    with pytest.raises(Conflict, match=r"HTTP 409 ABORTED: Etag mismatch"):
        update(etag='"stale"', traffic=[target(type_=2, revision=CANARY, percent=100)])
    with pytest.raises(Misconfigured, match=r"HTTP 404 NOT_FOUND: Resource 'nope'"):
        try:
            client.get_service(name=SERVICE_NAME.replace("checkout", "nope"))
        except Exception as e:
            raise cloud_run_error("t", "get", e) from e
    assert api.split() == {BASE: 100}


def test_a_missing_service_is_a_configuration_error(api: FakeCloudRun) -> None:
    r = cloud_run_router(api.url, service=SERVICE_NAME.replace("checkout", "nope"))
    with pytest.raises(Misconfigured, match=r"^gcp_cloud_run: get .*/nope: HTTP 404 NOT_FOUND"):
        r.get_weights()


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        (503, {"error": {"code": 503, "message": "backend down", "status": "UNAVAILABLE"}},
         Unavailable),
        (403, {"error": {"code": 403, "message": "Permission 'run.services.get' denied",
                         "status": "PERMISSION_DENIED"}}, Misconfigured),
        (429, {"error": {"code": 429, "message": "quota", "status": "RESOURCE_EXHAUSTED"}},
         Unavailable),
        (200, "<html>proxy login</html>", BadResponse),
        (200, {"name": SERVICE_NAME}, BadResponse),  # no etag
    ],
)  # fmt: skip
def test_unusable_answers_are_typed_errors(status: int, body: Any, error: type) -> None:
    data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
    with answering(status, {"Content-Type": "application/json"}, data) as stub:
        with pytest.raises(error, match=r"^gcp_cloud_run: get projects/"):
            cloud_run_router(stub.endpoint).set_weights({"baseline": 90, "canary": 10})
        assert len(stub.requests) == 1  # no hidden retries


def test_a_dead_endpoint_is_unavailable() -> None:
    r = cloud_run_router(f"http://127.0.0.1:{free_port()}")
    with pytest.raises(Unavailable, match=r"^gcp_cloud_run: get .*ConnectionError"):
        r.get_weights()


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"service": "checkout"}, "service: need projects/P/locations/L/services/S"),
        ({"revisions": {"baseline": BASE, "canary": BASE}}, "must differ"),
        ({"attempts": 0}, "attempts"),
    ],
)
def test_bad_configuration_is_refused(config: dict[str, Any], message: str) -> None:
    with pytest.raises(Misconfigured, match=message):
        cloud_run_router("http://127.0.0.1:1", **config)


def test_no_google_credentials_is_a_configuration_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "missing.json"))
    with pytest.raises(Misconfigured, match=r"^gcp_cloud_run: no Google credentials"):
        cloud_run_router("http://127.0.0.1:1", credentials=None)


def test_a_server_that_never_answers_is_unavailable_within_the_timeout() -> None:
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        started = time.monotonic()
        with pytest.raises(Unavailable, match=r"^gcp_cloud_run: get .*ReadTimeout"):
            cloud_run_router(url, timeout=0.3).get_weights()
    assert time.monotonic() - started < 3
