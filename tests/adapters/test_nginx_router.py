"""NginxRouter against a real NGINX with real HTTP traffic: splits, reloads under load, refusals."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from adapter_servers import Load, split, within
from nginx_server import NginxSetup, running_nginx
from sentra_adapters.errors import Rejected
from sentra_adapters.traffic.base import Outcome, Verification
from sentra_adapters.traffic.nginx import NginxRouter

from sentra_ml.analysis.types.labels import Cohort


@pytest.fixture(scope="module")
def nginx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NginxSetup]:
    with running_nginx(tmp_path_factory.mktemp("nginx")) as setup:
        yield setup


def shift(nginx: NginxSetup, canary: float) -> float:
    """Sets the canary weight and waits for the new workers; returns the reload's seconds."""
    old = nginx.workers()
    nginx.router.set_weights({"baseline": 100 - canary, "canary": canary})
    return nginx.wait_for_new_workers(old)


@pytest.mark.parametrize("canary", [0, 1, 10, 50, 90, 100])
def test_observed_split_follows_the_weights(nginx: NginxSetup, canary: float) -> None:
    shift(nginx, canary)
    n = 400
    seen = split(nginx.port, n)
    assert within(seen["canary"], n, canary), seen
    assert seen["baseline"] + seen["canary"] == n
    assert nginx.router.get_weights()[Cohort.CANARY] == pytest.approx(canary)


def test_no_request_fails_during_reloads(nginx: NginxSetup) -> None:
    with Load(nginx.port, threads=4) as load:
        for canary in [5, 20, 50, 80, 100, 0, 50, 10, 30, 0]:
            shift(nginx, canary)
            time.sleep(0.05)  # let some requests through each configuration
    assert load.failures == []
    assert sum(load.answers.values()) > 200, load.answers
    assert set(load.answers) == {"baseline", "canary"}


def test_a_weight_of_zero_is_written_as_down(nginx: NginxSetup) -> None:
    shift(nginx, 0)
    text = nginx.router.servers_file.read_text()
    assert "down;" in text and "weight=0" not in text
    assert nginx.router.verify({"baseline": 100, "canary": 0}) is Verification.UNSUPPORTED
    assert nginx.router.verify({"baseline": 50, "canary": 50}) is Verification.MISMATCH


def test_a_config_nginx_refuses_is_rolled_back(nginx: NginxSetup) -> None:
    shift(nginx, 10)
    before = nginx.router.servers_file.read_text()
    bad = NginxRouter(
        servers_file=nginx.router.servers_file,
        servers={"baseline": "127.0.0.1:99999", "canary": nginx.router.servers[Cohort.CANARY]},
        nginx=nginx.router.nginx,
    )
    with pytest.raises(Rejected, match=r"^nginx: `nginx -t` failed: .*port"):
        bad.set_weights({"baseline": 50, "canary": 50})
    assert nginx.router.servers_file.read_text() == before
    assert split(nginx.port, 100)["canary"] == 10


def test_finalize_promotes_and_restores(nginx: NginxSetup) -> None:
    old = nginx.workers()
    nginx.router.finalize(Outcome.PROMOTE)
    nginx.wait_for_new_workers(old)
    assert split(nginx.port, 20) == {"canary": 20}
    old = nginx.workers()
    nginx.router.finalize(Outcome.RESTORE)
    nginx.wait_for_new_workers(old)
    assert split(nginx.port, 20) == {"baseline": 20}


def test_weights_finer_than_the_resolution_are_rejected(nginx: NginxSetup) -> None:
    with pytest.raises(Rejected, match=r"0\.1 % resolution"):
        nginx.router.set_weights({"baseline": 99.95, "canary": 0.05})
