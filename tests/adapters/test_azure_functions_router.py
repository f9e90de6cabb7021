"""FunctionsSlotRouter with azure-mgmt-web over TLS against the local ARM: the ramp-up rule the
production site holds, slot swaps, App Service's error format, typed errors."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from adapter_servers import free_port
from fake_azure import (
    RG,
    SITE,
    SLOT,
    FakeARM,
    answering_tls,
    azure_router,
    reset,
    running_arm,
)
from sentra_adapters.azure import azure_call
from sentra_adapters.errors import BadResponse, Conflict, Misconfigured, Rejected, Unavailable
from sentra_adapters.traffic.base import Outcome, Verification

from sentra_ml.analysis.types.labels import Cohort

KIND = "azure_functions"
HOST = f"{SITE}-{SLOT}.azurewebsites.net"
BETA = f"{SITE}-beta.azurewebsites.net"  # another slot's host


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[FakeARM, Path]]:
    with running_arm(tmp_path_factory.mktemp("arm")) as setup:
        yield setup


@pytest.fixture
def arm(server: tuple[FakeARM, Path]) -> FakeARM:
    reset(server[0])  # every test starts with no rule: all traffic on production
    return server[0]


def router(server: tuple[FakeARM, Path], **config: Any) -> Any:
    return azure_router(KIND, server[0].url, server[1], **config)


def rules(arm: FakeARM) -> list[dict[str, Any]]:
    return list(arm.configs[SITE]["experiments"]["rampUpRules"])


def calls(arm: FakeARM) -> list[str]:
    return [f"{r.split(' ')[0]} {r.split(' ')[1].rsplit('/', 1)[-1]} {r.split(' ')[-1]}"
            for r in arm.requests]  # fmt: skip


@pytest.mark.parametrize("canary", [0, 0.1, 12.5, 50, 99.9, 100])
def test_the_production_site_routes_the_share_to_the_slot(
    server: Any, arm: FakeARM, canary: float
) -> None:
    r = router(server)
    weights = {"baseline": 100 - canary, "canary": canary}
    r.set_weights(weights)
    rule = {"name": SLOT, "actionHostName": HOST, "reroutePercentage": canary}
    assert rules(arm) == ([rule] if canary else [])  # nothing to write for 0
    assert r.get_weights()[Cohort.CANARY] == pytest.approx(canary, abs=1e-9)
    assert r.verify(weights) is Verification.CONFIRMED
    assert r.verify({"baseline": 50.5, "canary": 49.5}) is Verification.MISMATCH
    assert arm.configs[SITE]["numberOfWorkers"] == 1  # the rest of config/web is untouched


def test_a_write_is_one_patch_of_the_rules_and_a_repeat_writes_nothing(
    server: Any, arm: FakeARM
) -> None:
    r = router(server)
    r.set_weights({"baseline": 90, "canary": 10})
    assert calls(arm) == ["GET staging 200", "GET web 200", "PATCH web 200"]
    assert arm.bodies == [{"properties": {"experiments": {"rampUpRules": rules(arm)}}}]
    arm.requests.clear()
    r.set_weights({"baseline": 90, "canary": 10})
    assert calls(arm) == ["GET staging 200", "GET web 200"]


def test_an_existing_rule_keeps_its_name_and_other_rules_stay(server: Any, arm: FakeARM) -> None:
    arm.configs[SITE]["experiments"]["rampUpRules"] = [
        {"name": "beta", "actionHostName": BETA, "reroutePercentage": 0},
        {"name": "canary", "actionHostName": HOST.upper(), "reroutePercentage": 5},
    ]
    r = router(server)
    assert r.get_weights()[Cohort.CANARY] == 5
    r.set_weights({"baseline": 80, "canary": 20})
    assert rules(arm) == [
        {"name": "beta", "actionHostName": BETA, "reroutePercentage": 0},
        {"name": "canary", "actionHostName": HOST, "reroutePercentage": 20},
    ]


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ({"name": "beta", "actionHostName": BETA, "reroutePercentage": 10},
         rf"routes 10 % to '{BETA}' by rule 'beta', not only to slot 'staging'"),
        ({"name": SLOT, "actionHostName": HOST, "reroutePercentage": 5, "changeStep": 5},
         r"rule 'staging' ramps by itself"),
    ],
)  # fmt: skip
def test_rules_sentra_does_not_own_are_refused_without_a_write(
    server: Any, arm: FakeARM, rule: dict[str, Any], message: str
) -> None:
    arm.configs[SITE]["experiments"]["rampUpRules"] = [rule]
    with pytest.raises(Conflict, match=rf"^azure_functions: {SITE} .*{message}"):
        router(server).set_weights({"baseline": 50, "canary": 50})
    assert "PATCH" not in " ".join(arm.requests) and rules(arm) == [rule]


def test_promote_routes_back_to_production_then_swaps_the_slot_in(
    server: Any, arm: FakeARM
) -> None:
    r = router(server)
    r.set_weights({"baseline": 50, "canary": 50})
    arm.requests.clear()
    r.finalize(Outcome.PROMOTE)
    assert calls(arm) == ["GET staging 200", "GET web 200", "PATCH web 200",
                          "POST slotsswap 202", "GET op-1 202", "GET op-1 200"]  # fmt: skip
    assert arm.images == {"production": "shop:v2", SLOT: "shop:v1"}  # the canary build is live
    assert arm.bodies[-1] == {"targetSlot": SLOT, "preserveVnet": True}
    assert r.get_weights() == {Cohort.BASELINE: 100, Cohort.CANARY: 0}


def test_restore_routes_everything_to_production_without_a_swap(server: Any, arm: FakeARM) -> None:
    r = router(server)
    r.set_weights({"baseline": 50, "canary": 50})
    r.finalize(Outcome.RESTORE)
    assert rules(arm)[0]["reroutePercentage"] == 0
    assert arm.images == {"production": "shop:v1", SLOT: "shop:v2"}
    assert "POST" not in " ".join(arm.requests)


def test_a_swap_refused_while_another_operation_runs_leaves_production_serving(
    server: Any, arm: FakeARM
) -> None:
    def other_operation(a: FakeARM) -> None:
        a.operations["other"] = {"done": False, "kind": "web", "name": SITE, "polls": 9}

    r = router(server)
    r.set_weights({"baseline": 50, "canary": 50})
    arm.before_write.extend([lambda a: None, other_operation])  # the PATCH, then the swap
    with pytest.raises(Conflict, match=r"^azure_functions: swap .* HTTP 409: Conflict: Cannot"):
        r.finalize(Outcome.PROMOTE)
    assert rules(arm)[0]["reroutePercentage"] == 0
    assert arm.images["production"] == "shop:v1"


def test_app_services_refusals_in_its_own_error_format_are_typed(server: Any, arm: FakeARM) -> None:
    web = router(server).client.web_apps

    def patch(rule: dict[str, Any]) -> None:
        body = {"properties": {"experiments": {"rampUpRules": [rule]}}}
        azure_call("t", "update", web.update_configuration, RG, SITE, body)

    with pytest.raises(Rejected, match=r"HTTP 400: BadRequest: reroutePercentage 150 must be"):
        patch({"name": SLOT, "actionHostName": HOST, "reroutePercentage": 150})
    with pytest.raises(Rejected, match=r"'elsewhere.example' is not a slot of this site"):
        patch({"name": SLOT, "actionHostName": "elsewhere.example", "reroutePercentage": 5})
    with pytest.raises(Misconfigured, match=r"HTTP 404: NotFound: Slot 'nope' not found"):
        azure_call("t", "swap", web.begin_swap_slot_with_production, RG, SITE,
                   {"targetSlot": "nope", "preserveVnet": True})  # fmt: skip
    assert rules(arm) == []


def test_a_missing_site_or_slot_is_a_configuration_error(server: Any, arm: FakeARM) -> None:
    with pytest.raises(Misconfigured, match=r"^azure_functions: get slot .*/nope: HTTP 404"):
        router(server, slots={"baseline": "production", "canary": "nope"}).get_weights()
    with pytest.raises(Misconfigured, match=r"^azure_functions: get .*gone.* HTTP 404: NotFound"):
        router(server, site="gone").get_weights()


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        (503, {"Code": "ServiceUnavailable", "Message": "try later"}, Unavailable),
        (401, {"error": {"code": "ExpiredAuthenticationToken", "message": "old"}},
         Misconfigured),
        (200, {"properties": {}}, BadResponse),  # a slot without a host name
    ],
)  # fmt: skip
def test_unusable_answers_are_typed_errors(
    tmp_path: Path, status: int, body: Any, error: type
) -> None:
    with (
        answering_tls(tmp_path, status, body) as (url, cert, seen),
        pytest.raises(error, match=r"^azure_functions: get slot"),
    ):
        azure_router(KIND, url, cert).set_weights({"baseline": 90, "canary": 10})
    assert len(seen) == 1  # no hidden retries


def test_a_dead_endpoint_is_unavailable() -> None:
    r = azure_router(KIND, f"https://127.0.0.1:{free_port()}", None)
    with pytest.raises(Unavailable, match=r"^azure_functions: get .*ServiceRequestError"):
        r.get_weights()


@pytest.mark.parametrize(
    ("slots", "message"),
    [
        ({"baseline": "blue", "canary": "green"}, "the baseline must be the 'production' slot"),
        ({"baseline": "production", "canary": "production"}, "the canary must be a deployment"),
    ],
)
def test_bad_configuration_is_refused(slots: dict[str, str], message: str) -> None:
    with pytest.raises(Misconfigured, match=rf"^azure_functions: slots: {message}"):
        azure_router(KIND, "https://127.0.0.1:1", None, slots=slots)
