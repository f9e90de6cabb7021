"""Request arrivals: a Poisson process with an optional diurnal swing, split by canary weight."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Traffic:
    """Total arrivals at `rps * (1 + diurnal_amplitude * sin(2π t / diurnal_period))` requests/s."""

    rps: float
    diurnal_amplitude: float = 0.0
    diurnal_period: float = 86_400.0

    def __post_init__(self) -> None:
        if not (math.isfinite(self.rps) and self.rps >= 0):
            raise ValueError(f"rps: must be a finite number >= 0, got {self.rps}")
        if not 0.0 <= self.diurnal_amplitude < 1.0:
            raise ValueError(f"diurnal_amplitude: must be in [0, 1), got {self.diurnal_amplitude}")
        if not self.diurnal_period > 0:
            raise ValueError(f"diurnal_period: must be > 0, got {self.diurnal_period}")

    def rate(self, t: float) -> float:
        """The instantaneous total rate (requests/s) at time `t`."""
        phase = 2.0 * math.pi * t / self.diurnal_period
        return self.rps * (1.0 + self.diurnal_amplitude * math.sin(phase))

    def mean_rate(self, t: float, dt: float) -> float:
        """The total rate averaged over the tick `[t, t + dt)`."""
        if self.diurnal_amplitude == 0.0:
            return self.rps
        # exact integral of the sinusoid, so a tick long against the period is still right
        w = 2.0 * math.pi / self.diurnal_period
        swing = (math.cos(w * t) - math.cos(w * (t + dt))) / (w * dt)
        return self.rps * (1.0 + self.diurnal_amplitude * swing)

    def arrivals(
        self, rng: np.random.Generator, t: float, dt: float, weight: float
    ) -> tuple[int, int]:
        """(baseline, canary) request counts of the tick `[t, t + dt)`; `weight` is in percent.

        Each request independently goes to the canary with probability `weight / 100`, as a
        weighted router (Istio, an ingress, a service mesh) does.
        """
        total = int(rng.poisson(self.mean_rate(t, dt) * dt))
        canary = int(rng.binomial(total, weight / 100.0))
        return total - canary, canary
