"""The controller's loop on wall-clock time: a hanging router delays only its own rollout
(counted as overruns, never stacked), and a clean stop hands the leases back."""

from __future__ import annotations

import itertools
import time
from collections.abc import Mapping
from typing import ClassVar

import pytest
from api_helpers import Api
from routed import FAST, backdated
from sentra_adapters.traffic.base import Outcome, Verification, final_weights
from sentra_adapters.traffic.registry import routers
from sentra_adapters.traffic.weights import Weights, check_weights
from sentra_controller.scheduler import Scheduler

from sentra_ml.analysis.types.labels import Cohort
from sentra_ml.compose import controller_on
from sentra_ml.store import keys


class MemoryRouter:
    kind: ClassVar[str] = "memory"
    resolution: ClassVar[float] = 0.1

    def __init__(self, *, hang: float = 0.0) -> None:
        self.hang = hang
        self.weights: Weights = {Cohort.BASELINE: 100.0, Cohort.CANARY: 0.0}

    def set_weights(self, weights: Mapping[str, float]) -> None:
        time.sleep(self.hang)  # a backend that does not answer within the interval
        self.weights = check_weights(self.kind, weights)

    def get_weights(self) -> Weights:
        return dict(self.weights)

    def verify(self, weights: Mapping[str, float]) -> Verification:
        return Verification.CONFIRMED

    def finalize(self, outcome: Outcome) -> None:
        self.set_weights(final_weights(outcome))


@pytest.mark.timeout(60)
def test_a_hanging_router_delays_only_its_own_rollout(embedded: Api) -> None:
    if "memory" not in routers.kinds():  # a plugin, as an entry point would add one
        routers.register("memory", MemoryRouter)
    controller = controller_on(embedded.app.state.services, own_metrics=True)
    slow = backdated(embedded, 10, target={"kind": "memory", "hang": 6.0}, policy=FAST)
    quick = backdated(embedded, 10, target={"kind": "memory"}, policy=FAST)
    scheduler = Scheduler(controller, workers=4)
    scheduler.start()
    seen: list[float] = []
    pending = ""
    try:
        deadline = time.monotonic() + 8
        while time.monotonic() < deadline:
            verdict = embedded.get(f"/v1/rollouts/{quick['id']}/verdict").json()["verdict"]
            if verdict is not None and (not seen or verdict["ts"] != seen[-1]):
                seen.append(verdict["ts"])
            time.sleep(0.2)
            if len(seen) == 2:  # 2-4 s in: the slow rollout's first call still hangs
                pending = embedded.get(f"/v1/rollouts/{slow['id']}").json()["state"]
        held = set(controller.leases.held())
    finally:
        scheduler.stop()
    assert len(seen) >= 3  # judged every interval while the other's router hangs
    assert max(b - a for a, b in itertools.pairwise(seen)) < 4.0
    assert controller.metrics.overruns._value.get() >= 1  # the hanging tick was not stacked
    assert pending == "pending"  # its first weights are still being applied
    assert held == {slow["id"], quick["id"]}
    bus = embedded.app.state.services.bus
    assert bus.get(keys.lease(quick["id"])) is None  # handed back at stop
