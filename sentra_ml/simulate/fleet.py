"""The instances of one cohort and their gauges: cpu utilisation and resident memory.

The autoscaler is idealised: each cohort's capacity follows its expected share of traffic, so an
instance's load is measured against its expected share and has mean 1 whatever the weight. (With
integer replicas a literal autoscaler would leave a 1-instance canary at 5 % lightly loaded and
make cpu depend on the weight; that would make every A/A run look different.) Load fluctuations
(Poisson noise, the diurnal swing against the mean rate) still move cpu, in both cohorts alike;
below `cpu_floor_rps` per instance they are damped, as a real instance's capacity has a floor.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from sentra_ml.simulate.faults import TickParams
from sentra_ml.simulate.service import ServiceModel

FloatArray = NDArray[np.float64]


class Fleet:
    """Per-instance gauge state of one cohort; instances keep their state while scaled down."""

    def __init__(self, model: ServiceModel, rng: np.random.Generator) -> None:
        self._model = model
        self._rng = rng
        self._load: FloatArray = np.empty(0)  # smoothed load relative to the expected load
        self._noise: FloatArray = np.empty(0)  # AR(1) cpu noise
        self._level: FloatArray = np.empty(0)  # relative memory level of each instance

    def _grow(self, n: int) -> None:
        new = n - len(self._load)
        if new <= 0:
            return
        m = self._model
        # a new instance starts in the stationary state: at its expected load, noise at its sd
        self._load = np.concatenate((self._load, np.ones(new)))
        self._noise = np.concatenate((self._noise, self._rng.normal(0.0, m.cpu_noise, new)))
        level = 1.0 + self._rng.normal(0.0, m.memory_spread, new)
        self._level = np.concatenate((self._level, np.maximum(level, 0.1)))

    def readings(
        self, n: int, requests: int, expected_rps: float, dt: float, params: TickParams
    ) -> tuple[FloatArray, FloatArray]:
        """(cpu, memory_mb) of `n` instances after a tick of `dt` s with `requests` requests.

        `expected_rps` is the cohort's expected request rate, which its capacity was sized for.
        """
        m, rng = self._model, self._rng
        self._grow(n)
        per_instance = rng.multinomial(requests, np.full(n, 1.0 / n))
        expected = expected_rps * dt / n
        if expected > 0:
            # fluctuations count against at least `cpu_floor_rps` of capacity: with a handful of
            # requests a minute, one request must not spike the instance to 100 % cpu
            scale = max(expected, m.cpu_floor_rps * dt)
            relative = 1.0 + (per_instance - expected) / scale
        else:
            relative = np.zeros(n)  # no share of the traffic at all: the instance idles
        # cpu gauges are rates over a window (rate(...[1m])): smooth the load exponentially
        keep = math.exp(-dt / m.cpu_window_s)
        self._load[:n] = keep * self._load[:n] + (1.0 - keep) * relative
        phi = math.exp(-dt / m.cpu_noise_tau_s)
        shock = rng.normal(0.0, m.cpu_noise * math.sqrt(1.0 - phi * phi), n)
        self._noise[:n] = phi * self._noise[:n] + shock
        busy = m.cpu_idle + (m.cpu_target - m.cpu_idle) * self._load[:n]
        cpu = np.clip(params.cpu_factor * busy + self._noise[:n], 0.0, 1.0)
        jitter = 1.0 + rng.normal(0.0, m.memory_noise, n)
        memory = m.memory_mb * self._level[:n] * params.memory_factor * jitter
        return cpu, np.maximum(memory, 0.0)
