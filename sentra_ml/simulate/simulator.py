"""The seeded simulator: one tick of traffic in, the telemetry samples of both cohorts out."""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from sentra_ml.analysis.types.labels import Cohort
from sentra_ml.analysis.types.samples import GaugeSample, LatencySample, RatioSample, Sample
from sentra_ml.simulate.fleet import Fleet
from sentra_ml.simulate.scenario import LATENCY_BUCKETS_MS, Scenario
from sentra_ml.simulate.service import CPU, ERRORS, LATENCY, MEMORY, METRICS
from sentra_ml.simulate.traffic import Traffic

_BOUNDS = np.asarray(LATENCY_BUCKETS_MS)


class Simulator:
    """Telemetry of a canary rollout under `scenario`; the same seed gives the same samples.

    Ground truth, over all ticks so far (also during telemetry gaps):
    `canary_requests`, `canary_failed` (realised counts) and `excess_failed`, the expected number
    of canary failures caused by the release: the sum over ticks of
    `canary_requests * (canary error ratio - baseline error ratio)` when positive. The baseline
    cohort has the error ratio the canary would have without the release's fault (environment
    incidents hit both), so an environment incident adds no excess.
    """

    def __init__(self, scenario: Scenario, seed: int) -> None:
        self.scenario = scenario
        self._traffic = Traffic(scenario.rps, scenario.diurnal_amplitude, scenario.diurnal_period)
        # independent streams per purpose and cohort: a canary fault changes no baseline sample,
        # and before the onset a faulty run equals the healthy run with the same seed
        streams = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(7)]
        self._rng_traffic = streams[0]
        self._rng_errors = {Cohort.BASELINE: streams[1], Cohort.CANARY: streams[2]}
        self._rng_latency = {Cohort.BASELINE: streams[3], Cohort.CANARY: streams[4]}
        self._fleet = {
            Cohort.BASELINE: Fleet(scenario.service, streams[5]),
            Cohort.CANARY: Fleet(scenario.service, streams[6]),
        }
        self.canary_requests = 0
        self.canary_failed = 0
        self.excess_failed = 0.0

    def tick(self, t: float, dt: float, weight: float) -> list[Sample]:
        """The samples of both cohorts for the interval `[t, t + dt)`, all stamped `t + dt`.

        `weight` is the canary's share of traffic in percent (0..100).
        """
        if not dt > 0:
            raise ValueError(f"dt: must be > 0, got {dt}")
        if not 0.0 <= weight <= 100.0:
            raise ValueError(f"weight: must be in [0, 100], got {weight}")
        sc = self.scenario
        n_baseline, n_canary = self._traffic.arrivals(self._rng_traffic, t, dt, weight)
        requests = {Cohort.BASELINE: n_baseline, Cohort.CANARY: n_canary}
        shares = {Cohort.BASELINE: 1.0 - weight / 100.0, Cohort.CANARY: weight / 100.0}
        base = sc.service.base_params()
        params = {c: sc.fault.apply(c, base, t, weight) for c in Cohort}
        ts = t + dt
        samples: list[Sample] = []
        for cohort in Cohort:
            n, p = requests[cohort], params[cohort]
            failed = int(self._rng_errors[cohort].binomial(n, p.error_ratio))
            latencies = sc.service.latencies(
                self._rng_latency[cohort], min(n, sc.max_latency_values), p
            )
            instances = sc.service.instances(sc.rps, shares[cohort])
            cpu, memory = self._fleet[cohort].readings(instances, n, sc.rps * shares[cohort], dt, p)
            if cohort is Cohort.CANARY:
                self.canary_requests += n
                self.canary_failed += failed
                excess = p.error_ratio - params[Cohort.BASELINE].error_ratio
                self.excess_failed += n * max(0.0, excess)
            # a gap loses samples, not requests: the accounting above goes on regardless
            lost = {m for m in METRICS if sc.dropout(ts, cohort, m)}
            if ERRORS not in lost:
                samples.append(RatioSample(ts, cohort, ERRORS, float(n), float(failed)))
            if LATENCY not in lost:
                samples.append(self._latency_sample(ts, cohort, n, latencies))
            names = [f"{cohort.value}-{i}" for i in range(instances)]
            for metric, readings in ((CPU, cpu), (MEMORY, memory)):
                if metric not in lost:
                    samples.extend(
                        GaugeSample(ts, cohort, metric, value, name)
                        for name, value in zip(names, readings.tolist(), strict=True)
                    )
        return samples

    def run(self, duration: float, dt: float, weight: float, start: float = 0.0) -> list[Sample]:
        """All samples of the ticks from `start` to `start + duration` at a constant weight."""
        ticks = math.ceil(round(duration / dt, 9))
        out: list[Sample] = []
        for k in range(ticks):
            out.extend(self.tick(start + k * dt, dt, weight))
        return out

    def _latency_sample(
        self, ts: float, cohort: Cohort, n: int, values: NDArray[np.float64]
    ) -> LatencySample:
        if not self.scenario.latency_buckets:
            return LatencySample(ts, cohort, LATENCY, values=tuple(values.tolist()))
        # Prometheus `le` buckets count values <= bound; a capped sample is scaled up to all `n`
        cumulative = np.searchsorted(np.sort(values), _BOUNDS, side="right").astype(np.float64)
        if len(values) < n:
            cumulative = np.round(cumulative * (n / len(values)))
        buckets = tuple(zip(LATENCY_BUCKETS_MS, cumulative.tolist(), strict=True))
        return LatencySample(ts, cohort, LATENCY, buckets=buckets)
