"""A library of faults: each changes one or both cohorts' per-tick parameters from its onset on.

A fault is a small frozen dataclass with an `onset` (s) and an `apply` method. The simulator asks
it, at the start `t` of every tick, what a cohort looks like given the canary weight (percent).
Faults of the release touch only the canary; `EnvironmentIncident` touches both cohorts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Protocol

from sentra_ml.analysis.types.labels import Cohort


@dataclass(frozen=True)
class TickParams:
    """What one cohort's requests and instances look like during one tick."""

    error_ratio: float  # probability that a request fails
    latency_factor: float = 1.0  # multiplies every request's latency
    p_slow: float = 0.0  # fraction of requests that take a slow path ...
    slow_factor: float = 1.0  # ... and have their latency multiplied by this
    memory_factor: float = 1.0  # multiplies every instance's memory level
    cpu_factor: float = 1.0  # multiplies every instance's cpu utilisation


class Fault(Protocol):
    """Changes a cohort's parameters at time `t` (s) given the canary `weight` (percent)."""

    @property
    def onset(self) -> float: ...

    def apply(self, cohort: Cohort, params: TickParams, t: float, weight: float) -> TickParams: ...


def _canary_after(onset: float, cohort: Cohort, t: float) -> bool:
    return cohort is Cohort.CANARY and t >= onset


@dataclass(frozen=True)
class NoFault:
    """Nothing is wrong: an A/A run."""

    onset: float = math.inf

    def apply(self, cohort: Cohort, params: TickParams, t: float, weight: float) -> TickParams:
        return params


@dataclass(frozen=True)
class ErrorStep:
    """From `onset` on, the canary's error ratio is `ratio` (e.g. 0.01 -> 0.03)."""

    onset: float
    ratio: float

    def __post_init__(self) -> None:
        if not 0.0 <= self.ratio <= 1.0:
            raise ValueError(f"ratio: must be in [0, 1], got {self.ratio}")

    def apply(self, cohort: Cohort, params: TickParams, t: float, weight: float) -> TickParams:
        if not _canary_after(self.onset, cohort, t):
            return params
        return replace(params, error_ratio=self.ratio)


@dataclass(frozen=True)
class ErrorRamp:
    """From `onset` on, the canary's error ratio grows linearly to `factor` times the service's
    over `ramp_seconds`, then stays there (a release that degrades slowly, e.g. 2x in 4 min)."""

    onset: float
    factor: float
    ramp_seconds: float

    def __post_init__(self) -> None:
        if not self.factor > 0 or not self.ramp_seconds > 0:
            raise ValueError("factor and ramp_seconds: must be > 0")

    def apply(self, cohort: Cohort, params: TickParams, t: float, weight: float) -> TickParams:
        if not _canary_after(self.onset, cohort, t):
            return params
        progress = min(1.0, (t - self.onset) / self.ramp_seconds)
        ratio = params.error_ratio * (1.0 + (self.factor - 1.0) * progress)
        return replace(params, error_ratio=min(1.0, ratio))


@dataclass(frozen=True)
class GaugeShift:
    """From `onset` on, every canary instance's cpu and memory are multiplied by the factors."""

    onset: float
    cpu_factor: float = 1.0
    memory_factor: float = 1.0

    def apply(self, cohort: Cohort, params: TickParams, t: float, weight: float) -> TickParams:
        if not _canary_after(self.onset, cohort, t):
            return params
        return replace(
            params,
            cpu_factor=params.cpu_factor * self.cpu_factor,
            memory_factor=params.memory_factor * self.memory_factor,
        )


@dataclass(frozen=True)
class LatencyShift:
    """From `onset` on, every canary latency is multiplied by `factor` (every quantile moves)."""

    onset: float
    factor: float

    def apply(self, cohort: Cohort, params: TickParams, t: float, weight: float) -> TickParams:
        if not _canary_after(self.onset, cohort, t):
            return params
        return replace(params, latency_factor=params.latency_factor * self.factor)


@dataclass(frozen=True)
class TailLatency:
    """From `onset` on, a fraction `p_slow` of canary requests is `slow_factor` times slower.

    With `p_slow` small (0.02) the median barely moves while p99 rises, as when a new code path
    hits a cold cache or a lock for a few requests.
    """

    onset: float
    p_slow: float
    slow_factor: float

    def __post_init__(self) -> None:
        if not 0.0 <= self.p_slow <= 1.0:
            raise ValueError(f"p_slow: must be in [0, 1], got {self.p_slow}")

    def apply(self, cohort: Cohort, params: TickParams, t: float, weight: float) -> TickParams:
        if not _canary_after(self.onset, cohort, t):
            return params
        return replace(params, p_slow=self.p_slow, slow_factor=self.slow_factor)


@dataclass(frozen=True)
class SlowDrift:
    """A memory leak: from `onset` on, canary memory grows by `per_minute` of its level per minute.

    The leaked bytes grow linearly in time (a constant leak rate). A larger live heap makes the
    garbage collector scan more and run more often, so latency and cpu grow with it; we model
    both as `1 + latency_coupling * growth`, where growth is the relative memory increase
    (default 0.3: +50 % memory -> +15 % latency and cpu). No OOM kill: memory grows unbounded.
    """

    onset: float
    per_minute: float
    latency_coupling: float = 0.3

    def apply(self, cohort: Cohort, params: TickParams, t: float, weight: float) -> TickParams:
        if not _canary_after(self.onset, cohort, t):
            return params
        growth = self.per_minute * (t - self.onset) / 60.0
        gc = 1.0 + self.latency_coupling * growth
        return replace(
            params,
            memory_factor=params.memory_factor * (1.0 + growth),
            latency_factor=params.latency_factor * gc,
            cpu_factor=params.cpu_factor * gc,
        )


@dataclass(frozen=True)
class IntermittentBursts:
    """From `onset` on, the canary's error ratio is `ratio` for `burst_seconds` every `period` s.

    Evaluated at the start of each tick, so ticks should be shorter than `burst_seconds`.
    """

    onset: float
    period: float
    burst_seconds: float
    ratio: float

    def __post_init__(self) -> None:
        if not 0.0 < self.burst_seconds <= self.period:
            raise ValueError("burst_seconds: must be in (0, period]")
        if not 0.0 <= self.ratio <= 1.0:
            raise ValueError(f"ratio: must be in [0, 1], got {self.ratio}")

    def apply(self, cohort: Cohort, params: TickParams, t: float, weight: float) -> TickParams:
        if not _canary_after(self.onset, cohort, t):
            return params
        if (t - self.onset) % self.period >= self.burst_seconds:
            return params
        return replace(params, error_ratio=self.ratio)


@dataclass(frozen=True)
class Saturation:
    """The canary overloads a shared resource (a pool, a downstream) once its weight passes a knee.

    Below `knee_weight` (percent) nothing changes. Above it the canary's error ratio and latency
    factor grow linearly in the weight and reach `error_ratio` and `latency_factor` at
    `full_weight`, continuing to grow beyond it (error ratio capped at 1).
    """

    onset: float
    knee_weight: float = 20.0
    full_weight: float = 50.0
    error_ratio: float = 0.08
    latency_factor: float = 2.0

    def __post_init__(self) -> None:
        if not 0.0 <= self.knee_weight < self.full_weight:
            raise ValueError("knee_weight: must be >= 0 and below full_weight")

    def apply(self, cohort: Cohort, params: TickParams, t: float, weight: float) -> TickParams:
        if not _canary_after(self.onset, cohort, t) or weight <= self.knee_weight:
            return params
        s = (weight - self.knee_weight) / (self.full_weight - self.knee_weight)
        ratio = params.error_ratio + (self.error_ratio - params.error_ratio) * s
        return replace(
            params,
            error_ratio=min(1.0, max(0.0, ratio)),
            latency_factor=params.latency_factor * (1.0 + (self.latency_factor - 1.0) * s),
        )


@dataclass(frozen=True)
class EnvironmentIncident:
    """An incident of the environment (network, database) that hits BOTH cohorts equally.

    For `duration` s from `onset`, each cohort's error ratio rises to `error_ratio` (never
    lowered) and its latency is multiplied by `latency_factor`.
    """

    onset: float
    duration: float
    error_ratio: float
    latency_factor: float = 1.0

    def apply(self, cohort: Cohort, params: TickParams, t: float, weight: float) -> TickParams:
        if not self.onset <= t < self.onset + self.duration:
            return params
        return replace(
            params,
            error_ratio=max(params.error_ratio, self.error_ratio),
            latency_factor=params.latency_factor * self.latency_factor,
        )


@dataclass(frozen=True)
class Combined:
    """Several faults at once, applied in order (e.g. an incident during a canary fault)."""

    parts: tuple[Fault, ...]

    @property
    def onset(self) -> float:
        return min((f.onset for f in self.parts), default=math.inf)

    def apply(self, cohort: Cohort, params: TickParams, t: float, weight: float) -> TickParams:
        for fault in self.parts:
            params = fault.apply(cohort, params, t, weight)
        return params
