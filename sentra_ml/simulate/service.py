"""The simulated service: metric names, error ratio, latency distribution, instance sizing."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from sentra_ml.simulate.faults import TickParams

# the metrics the simulator emits (names shared with `spec.default_spec`)
ERRORS = "errors"
LATENCY = "latency_ms"
CPU = "cpu"
MEMORY = "memory_mb"
METRICS: tuple[str, ...] = (ERRORS, LATENCY, CPU, MEMORY)


@dataclass(frozen=True)
class ServiceModel:
    """A healthy service, identical in both cohorts until a fault says otherwise.

    Latency (ms) is lognormal with median `latency_median_ms` and log-sd `latency_sigma`; with
    `tail_fraction > 0` that share of requests instead comes from a Pareto tail with scale
    `tail_start_ms` and index `tail_alpha` (1 < alpha < 2: finite mean, infinite variance, as
    measured for many RPC services). Every latency is capped at `timeout_ms`, as a client gives up.

    Instances: the fleet at full traffic has `ceil(rps / rps_per_instance)` instances and each
    cohort gets its share of it (at least one). cpu is `cpu_idle` plus a load term that reaches
    `cpu_target` at the instance's expected load, averaged over `cpu_window_s`, plus AR(1) noise
    of sd `cpu_noise` and correlation time `cpu_noise_tau_s` (see `fleet.Fleet`; `cpu_floor_rps`
    damps the load noise of nearly idle instances). memory_mb is a per-instance level around
    `memory_mb` (instance-to-instance sd `memory_spread`, relative) with reading noise
    `memory_noise` (relative).
    """

    error_ratio: float = 0.01
    latency_median_ms: float = 80.0
    latency_sigma: float = 0.5
    tail_fraction: float = 0.0
    tail_start_ms: float = 250.0
    tail_alpha: float = 1.5
    timeout_ms: float = 30_000.0
    rps_per_instance: float = 25.0
    cpu_idle: float = 0.05
    cpu_target: float = 0.55
    cpu_window_s: float = 60.0
    cpu_floor_rps: float = 1.0
    cpu_noise: float = 0.03
    cpu_noise_tau_s: float = 120.0
    memory_mb: float = 512.0
    memory_spread: float = 0.03
    memory_noise: float = 0.005

    def __post_init__(self) -> None:
        if not 0.0 <= self.error_ratio <= 1.0:
            raise ValueError(f"error_ratio: must be in [0, 1], got {self.error_ratio}")
        if self.latency_median_ms <= 0 or self.latency_sigma < 0:
            raise ValueError("latency_median_ms must be > 0 and latency_sigma >= 0")
        if not 0.0 <= self.tail_fraction <= 1.0:
            raise ValueError(f"tail_fraction: must be in [0, 1], got {self.tail_fraction}")
        if self.tail_start_ms <= 0 or self.tail_alpha <= 0:
            raise ValueError("tail_start_ms and tail_alpha must be > 0")
        if self.rps_per_instance <= 0:
            raise ValueError(f"rps_per_instance: must be > 0, got {self.rps_per_instance}")
        if not 0.0 <= self.cpu_idle <= self.cpu_target <= 1.0:
            raise ValueError("need 0 <= cpu_idle <= cpu_target <= 1")

    def base_params(self) -> TickParams:
        """The healthy parameters of a cohort, before any fault."""
        return TickParams(error_ratio=self.error_ratio)

    def instances(self, rps: float, share: float) -> int:
        """How many instances a cohort with `share` (0..1) of `rps` total requests/s runs."""
        fleet = max(1, math.ceil(rps / self.rps_per_instance))
        # round before ceil so that float noise (0.3 * 10 = 3.0000000000000004) adds no instance
        return max(1, math.ceil(round(fleet * share, 9)))

    def latencies(
        self, rng: np.random.Generator, n: int, params: TickParams
    ) -> NDArray[np.float64]:
        """`n` request latencies (ms) under `params`.

        The number of random draws depends only on `n`, never on `params`, so a faulty and a
        healthy run with the same seed see the same requests (common random numbers).
        """
        mu = math.log(self.latency_median_ms)
        values = rng.lognormal(mu, self.latency_sigma, n)
        tail = rng.random(n) < self.tail_fraction
        pareto = self.tail_start_ms * (1.0 + rng.pareto(self.tail_alpha, n))
        values = np.where(tail, pareto, values)
        slow = rng.random(n) < params.p_slow
        factor = np.where(slow, params.latency_factor * params.slow_factor, params.latency_factor)
        return np.minimum(values * factor, self.timeout_ms)
