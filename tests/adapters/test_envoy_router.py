"""EnvoyRouter against a real Envoy with real HTTP traffic: RDS file swaps, live read-back."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from adapter_servers import Load, split, within
from envoy_server import EnvoySetup, running_envoy
from sentra_adapters.errors import Rejected
from sentra_adapters.traffic.base import Outcome, Verification
from sentra_adapters.traffic.envoy import EnvoyRouter

from sentra_ml.analysis.types.labels import Cohort


@pytest.fixture(scope="module")
def envoy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EnvoySetup]:
    with running_envoy(tmp_path_factory.mktemp("envoy")) as setup:
        yield setup


@pytest.mark.parametrize("canary", [0, 1, 10, 50, 90, 100])
def test_observed_split_follows_the_weights(envoy: EnvoySetup, canary: float) -> None:
    envoy.router.set_weights({"baseline": 100 - canary, "canary": canary})
    n = 400
    seen = split(envoy.port, n)
    # Envoy picks a cluster at random per request; its counts vary ~1.5x a binomial's
    # (measured over 30 batches), hence 5 sigmas
    assert within(seen["canary"], n, canary, sigmas=5), seen
    assert seen["baseline"] + seen["canary"] == n
    assert envoy.router.get_weights()[Cohort.CANARY] == pytest.approx(canary)
    wanted = {"baseline": 100 - canary, "canary": canary}
    assert envoy.router.verify(wanted) is Verification.CONFIRMED


def test_no_request_fails_while_routes_are_swapped(envoy: EnvoySetup) -> None:
    with Load(envoy.port, threads=4) as load:
        for canary in [5, 20, 50, 80, 100, 0, 50, 10]:
            envoy.router.set_weights({"baseline": 100 - canary, "canary": canary})
            time.sleep(0.05)  # let some requests through each configuration
    assert load.failures == []
    assert set(load.answers) == {"baseline", "canary"}


def test_a_route_envoy_refuses_is_rolled_back(envoy: EnvoySetup) -> None:
    envoy.router.set_weights({"baseline": 80, "canary": 20})
    before = envoy.router.rds_file.read_text()
    bad = EnvoyRouter(
        rds_file=envoy.router.rds_file,
        route_name="app",
        clusters={"baseline": "baseline", "canary": "canary"},
        admin_url=envoy.router.admin_url,
        domains=("*", "*"),  # Envoy refuses duplicate domains
    )
    with pytest.raises(Rejected, match=r"^envoy: route app: update rejected"):
        bad.set_weights({"baseline": 50, "canary": 50})
    assert envoy.router.rds_file.read_text() == before
    assert envoy.router.get_weights()[Cohort.CANARY] == 20


def test_finalize_promotes_and_restores(envoy: EnvoySetup) -> None:
    envoy.router.finalize(Outcome.PROMOTE)
    assert split(envoy.port, 20) == {"canary": 20}
    envoy.router.finalize(Outcome.RESTORE)
    assert split(envoy.port, 20) == {"baseline": 20}
