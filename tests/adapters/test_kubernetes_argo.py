"""ArgoRollout with the official client against the local API server: the plugin's promote,
promote --full and abort patches on the status subresource, under resourceVersion preconditions."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from adapter_servers import free_port
from fake_kube_api import NAMESPACE, ROLLOUT_PATH, FakeKubeAPI, rollout, running_kube_api
from sentra_adapters.errors import Conflict, Misconfigured, Unavailable
from sentra_adapters.traffic.base import Outcome
from sentra_adapters.traffic.k8s.argo import ArgoRollout, RolloutState


@pytest.fixture(scope="module")
def server() -> Iterator[FakeKubeAPI]:
    with running_kube_api() as api:
        yield api


@pytest.fixture
def api(server: FakeKubeAPI) -> FakeKubeAPI:
    rollout(server)  # paused at step 1 (pause: {}) with 20 % to the canary
    server.requests.clear()
    server.before_write.clear()
    return server


def argo(url: str, **config: Any) -> ArgoRollout:
    return ArgoRollout(host=url, **{"rollout": "app", "namespace": NAMESPACE, **config})


def status(api: FakeKubeAPI) -> dict[str, Any]:
    return dict(api.get(ROLLOUT_PATH)["status"])


def patches(api: FakeKubeAPI) -> list[str]:
    return [
        f"{r.split(' ')[1].removeprefix(ROLLOUT_PATH) or '/'} {r.split(' ')[-1]}"
        for r in api.requests
        if r.startswith("PATCH")
    ]


def test_the_state_is_read_from_spec_and_status(api: FakeKubeAPI) -> None:
    assert argo(api.url).state() == RolloutState("Paused", 1, 5, True, False, 20.0)


def test_promote_at_a_pause_clears_the_pause_condition_on_the_status(api: FakeKubeAPI) -> None:
    version = api.get(ROLLOUT_PATH)["metadata"]["resourceVersion"]
    argo(api.url).promote()
    assert patches(api) == ["/status 200"]
    assert "application/merge-patch+json" in api.requests[-1]
    assert "pauseConditions" not in status(api) and status(api)["currentStepIndex"] == 1
    assert int(api.get(ROLLOUT_PATH)["metadata"]["resourceVersion"]) == int(version) + 1


def test_promote_of_a_paused_spec_also_unpauses_it(api: FakeKubeAPI) -> None:
    api.edit(ROLLOUT_PATH, lambda ro: ro["spec"].update(paused=True))
    argo(api.url).promote()
    assert patches(api) == ["/status 200", "/ 200"]
    assert api.get(ROLLOUT_PATH)["spec"]["paused"] is False


def test_promote_during_an_analysis_steps_on(api: FakeKubeAPI) -> None:
    rollout(api, step=3, weight=50, paused=False)
    argo(api.url).promote()
    assert status(api)["currentStepIndex"] == 4
    rollout(api, step=5, weight=100, paused=False)
    argo(api.url).promote()
    assert status(api)["currentStepIndex"] == 5  # never past the last step


def test_a_rollout_that_moved_on_is_not_promoted_twice(api: FakeKubeAPI) -> None:
    rollout(api, step=3, weight=50, paused=False)

    def argo_controller(a: FakeKubeAPI) -> None:  # the analysis passed meanwhile
        a.edit(ROLLOUT_PATH, lambda ro: ro["status"].update(currentStepIndex=4))

    api.before_write.append(argo_controller)
    argo(api.url).promote(at_step=3)
    assert patches(api) == ["/status 409"]  # re-read at step 4: nothing left to do
    assert status(api)["currentStepIndex"] == 4


def test_a_rollout_changing_on_every_try_is_a_conflict(api: FakeKubeAPI) -> None:
    def other(a: FakeKubeAPI) -> None:
        a.edit(ROLLOUT_PATH, lambda ro: ro["metadata"].update(labels={"n": str(len(a.requests))}))

    api.before_write.extend([other] * 2)
    with pytest.raises(Conflict, match=r"^argo_rollouts: Rollout shop/app changed .* 2 tries"):
        argo(api.url, attempts=2).promote()
    assert status(api)["pauseConditions"]


@pytest.mark.parametrize(("outcome", "field"), [(Outcome.PROMOTE, "promoteFull"),
                                                (Outcome.RESTORE, "abort")])  # fmt: skip
def test_finalize_is_a_full_promotion_or_an_abort(
    api: FakeKubeAPI, outcome: Outcome, field: str
) -> None:
    a = argo(api.url)
    a.finalize(outcome)
    assert status(api)[field] is True and patches(api) == ["/status 200"]
    api.requests.clear()
    if outcome is Outcome.RESTORE:
        a.abort()  # already aborted: no write
        assert patches(api) == []
        assert a.state().aborted


def test_a_full_promotion_of_a_finished_rollout_writes_nothing(api: FakeKubeAPI) -> None:
    api.edit(ROLLOUT_PATH, lambda ro: ro["status"].update(stableRS="7d9f"))
    argo(api.url).promote_full()
    assert patches(api) == []


def test_a_missing_or_non_canary_rollout_is_a_configuration_error(api: FakeKubeAPI) -> None:
    with pytest.raises(Misconfigured, match=r"get Rollout shop/nope: HTTP 404"):
        argo(api.url, rollout="nope").state()
    api.edit(ROLLOUT_PATH, lambda ro: ro["spec"].update(strategy={"blueGreen": {}}))
    with pytest.raises(Misconfigured, match="is not a canary"):
        argo(api.url).promote()


def test_a_dead_api_server_is_unavailable() -> None:
    with pytest.raises(Unavailable, match=r"^argo_rollouts: get Rollout shop/app: "):
        argo(f"http://127.0.0.1:{free_port()}").abort()
