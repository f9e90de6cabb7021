"""HAProxyRouter against a real HAProxy with real HTTP traffic: live weights, reloads, errors."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from adapter_servers import Load, split, within
from haproxy_server import HAProxySetup, running_haproxy
from sentra_adapters.errors import Rejected
from sentra_adapters.traffic.base import Outcome, Verification
from sentra_adapters.traffic.haproxy import HAProxyRouter

from sentra_ml.analysis.types.labels import Cohort


@pytest.fixture(scope="module")
def haproxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HAProxySetup]:
    with running_haproxy(tmp_path_factory.mktemp("haproxy")) as setup:
        yield setup


@pytest.mark.parametrize("canary", [0, 1, 10, 50, 90, 100])
def test_observed_split_follows_the_weights(haproxy: HAProxySetup, canary: float) -> None:
    haproxy.router.set_weights({"baseline": 100 - canary, "canary": canary})
    n = 400
    seen = split(haproxy.port, n)
    assert within(seen["canary"], n, canary), seen
    assert seen["baseline"] + seen["canary"] == n
    assert haproxy.router.get_weights()[Cohort.CANARY] == pytest.approx(canary)
    assert haproxy.router.verify({"baseline": 100 - canary, "canary": canary}) is (
        Verification.CONFIRMED
    )


def test_weights_survive_a_reload(haproxy: HAProxySetup) -> None:
    haproxy.router.set_weights({"baseline": 70, "canary": 30})
    haproxy.reload()
    assert haproxy.router.get_weights() == {"baseline": 70, "canary": 30}
    assert within(split(haproxy.port, 200)["canary"], 200, 30)


def test_no_request_fails_while_weights_change_and_haproxy_reloads(
    haproxy: HAProxySetup,
) -> None:
    with Load(haproxy.port, threads=4) as load:
        for canary in [5, 20, 50, 80, 100, 0, 50, 10]:
            haproxy.router.set_weights({"baseline": 100 - canary, "canary": canary})
            split(haproxy.port, 10)
        haproxy.reload()
    assert load.failures == []
    assert set(load.answers) == {"baseline", "canary"}


def test_an_unknown_server_is_rejected_by_haproxy(haproxy: HAProxySetup) -> None:
    bad = HAProxyRouter(
        socket=haproxy.router.socket, backend="app", servers={"baseline": "b", "canary": "c"}
    )
    with pytest.raises(Rejected, match=r"^haproxy: get weight app/b: No such server"):
        bad.set_weights({"baseline": 50, "canary": 50})


def test_finalize_promotes_and_restores(haproxy: HAProxySetup) -> None:
    haproxy.router.finalize(Outcome.PROMOTE)
    assert split(haproxy.port, 20) == {"canary": 20}
    haproxy.router.finalize(Outcome.RESTORE)
    assert split(haproxy.port, 20) == {"baseline": 20}


def test_the_state_file_holds_the_weights(haproxy: HAProxySetup) -> None:
    haproxy.router.set_weights({"baseline": 99, "canary": 1})
    assert haproxy.router.state_file is not None
    lines = haproxy.router.state_file.read_text().splitlines()
    assert lines[0] == "1"
    weights = {f[3]: int(f[7]) for f in (ln.split() for ln in lines[2:] if ln.strip())}
    assert weights == {"baseline": 99, "canary": 1}
