"""Stand-in backends for the controller benchmarks: a router and a source in memory.

`SimWorld` closes the loop: its source serves the simulator's telemetry at the split its router
last applied, so a controller that steps faster exposes more canary traffic, for better or worse.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Mapping
from typing import Any, ClassVar

from sentra_adapters.registry import Registry
from sentra_adapters.telemetry.base import Window
from sentra_adapters.traffic.base import Outcome, Verification, final_weights
from sentra_adapters.traffic.weights import Weights, check_weights

from sentra_ml.analysis.types.labels import Cohort
from sentra_ml.analysis.types.samples import LatencySample, RatioSample, Sample
from sentra_ml.simulate import Scenario, Simulator

DT = 2.0


class NoopRouter:
    """Holds the weights it is given; verifies them."""

    kind: ClassVar[str] = "noop"
    resolution: ClassVar[float] = 0.1

    def __init__(self, **_: Any) -> None:
        self.weights: Weights = {Cohort.BASELINE: 100.0, Cohort.CANARY: 0.0}

    def set_weights(self, weights: Mapping[str, float]) -> None:
        self.weights = check_weights(self.kind, weights)

    def get_weights(self) -> Weights:
        return dict(self.weights)

    def verify(self, weights: Mapping[str, float]) -> Verification:
        return Verification.CONFIRMED

    def finalize(self, outcome: Outcome) -> None:
        self.set_weights(final_weights(outcome))


class SteadySource:
    """A healthy service at 200 req/s: a sample every 2 s per metric and cohort."""

    kind: ClassVar[str] = "steady"

    def __init__(self, **_: Any) -> None:
        pass

    def metrics(self) -> list[str]:
        return ["errors", "latency_ms"]

    def fetch(self, metric: str, cohort: Cohort, start: float, end: float) -> Window:
        out: list[Sample] = []
        t = math.floor(start / DT) * DT + DT
        while t <= end:
            if metric == "errors":
                out.append(RatioSample(t, cohort, metric, 400.0, 4.0))
            else:
                values = tuple(10.0 + (i * 7 + int(t)) % 13 for i in range(20))
                out.append(LatencySample(t, cohort, metric, values=values))
            t += DT
        return Window(metric, cohort, start, end, tuple(out))


class SimWorld:
    """One simulated service under rollout, from time `start`."""

    def __init__(self, scenario: Scenario, seed: int, start: float) -> None:
        self.sim = Simulator(scenario, seed)
        self.start = start
        self.t = start  # simulated up to here
        self.router = NoopRouter()
        self.samples: dict[tuple[str, Cohort], list[Sample]] = {}
        self.max_weight = 0.0

    def advance(self, until: float) -> None:
        while self.t + DT <= until + 1e-9:
            weight = self.router.weights[Cohort.CANARY]
            self.max_weight = max(self.max_weight, weight)
            for s in self.sim.tick(self.t - self.start, DT, weight):
                # the simulator stamps from 0; the controller lives at `start` + that
                self.samples.setdefault((s.metric, s.cohort), []).append(_shifted(s, self.start))
            self.t += DT

    def window(self, metric: str, cohort: Cohort, start: float, end: float) -> tuple[Sample, ...]:
        series = self.samples.get((metric, cohort), [])
        lo = bisect.bisect_left([s.ts for s in series[-400:]], start)
        recent = series[-400:][lo:]
        return tuple(s for s in recent if s.ts <= end)


def _shifted(sample: Sample, by: float) -> Sample:
    from dataclasses import replace

    return replace(sample, ts=sample.ts + by)


WORLDS: dict[str, SimWorld] = {}


class SimRouter:
    kind: ClassVar[str] = "sim"
    resolution: ClassVar[float] = 0.1

    def __init__(self, *, world: str) -> None:
        self.world = WORLDS[world]

    def set_weights(self, weights: Mapping[str, float]) -> None:
        self.world.router.set_weights(weights)

    def get_weights(self) -> Weights:
        return self.world.router.get_weights()

    def verify(self, weights: Mapping[str, float]) -> Verification:
        return Verification.CONFIRMED

    def finalize(self, outcome: Outcome) -> None:
        self.world.router.finalize(outcome)


class SimSource:
    kind: ClassVar[str] = "sim"

    def __init__(self, *, world: str) -> None:
        self.world = WORLDS[world]

    def metrics(self) -> list[str]:
        return sorted({metric for metric, _ in self.world.samples})

    def fetch(self, metric: str, cohort: Cohort, start: float, end: float) -> Window:
        self.world.advance(end)
        return Window(metric, cohort, start, end, self.world.window(metric, cohort, start, end))


def registries() -> tuple[Registry[Any], Registry[Any]]:
    routers: Registry[Any] = Registry("router", "sentra.bench.routers", {})
    sources: Registry[Any] = Registry("source", "sentra.bench.sources", {})
    routers.register("noop", NoopRouter)
    routers.register("sim", SimRouter)
    sources.register("steady", SteadySource)
    sources.register("sim", SimSource)
    return routers, sources
