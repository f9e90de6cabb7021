"""A tiny closed-loop telemetry driver for the incumbent rules (no dependency on the simulator).

Every `dt` seconds each cohort gets Poisson(rate * dt) requests, each failing with its error
probability and taking a log-normal latency; the canary's share of `rps` is the weight the rule
recommended at the previous tick (or a fixed `canary_rps`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from sentra_ml.analysis.incumbents import DecisionRule
from sentra_ml.analysis.types.labels import Action, Cohort
from sentra_ml.analysis.types.samples import LatencySample, RatioSample
from sentra_ml.analysis.types.verdict import Verdict

BUCKETS = (5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 500.0, 1000.0, 2500.0, 5000.0, math.inf)


@dataclass
class Run:
    verdicts: list[Verdict] = field(default_factory=list)

    @property
    def final(self) -> Verdict:
        return self.verdicts[-1]

    def first(self, action: Action) -> float | None:
        return next((v.ts for v in self.verdicts if v.action is action), None)

    def weight_at(self, t: float) -> float:
        return next(v.weight for v in self.verdicts if math.isclose(v.ts, t))

    def changes(self) -> list[tuple[float, float]]:
        """(time, new weight) at every change of the recommended weight."""
        out = []
        for v in self.verdicts:
            if v.weight != v.current_weight:
                out.append((v.ts, v.weight))
        return out


def buckets_of(values: np.ndarray) -> tuple[tuple[float, float], ...]:
    counts = np.searchsorted(np.sort(values), np.array(BUCKETS), side="right")
    return tuple((le, float(c)) for le, c in zip(BUCKETS, counts, strict=True))


def latency_sample(ts: float, cohort: Cohort, values: np.ndarray, mode: str) -> LatencySample:
    if mode == "buckets":
        return LatencySample(ts, cohort, "latency_ms", buckets=buckets_of(values))
    return LatencySample(ts, cohort, "latency_ms", values=tuple(float(v) for v in values))


def drive(
    rule: DecisionRule,
    *,
    until: float,
    dt: float = 2.0,
    rps: float = 100.0,
    p_canary: float = 0.01,
    p_baseline: float = 0.01,
    median_canary: float = 100.0,
    median_baseline: float = 100.0,
    sigma: float = 0.5,
    latency: str | None = "values",
    canary_rps: float | None = None,
    seed: int = 0,
    stop_on_final: bool = False,
) -> Run:
    rng = np.random.default_rng(seed)
    run = Run()
    weight = float(getattr(rule, "weight", 10.0))
    for k in range(1, round(until / dt) + 1):
        t = k * dt
        rate_c = canary_rps if canary_rps is not None else rps * weight / 100.0
        cohorts = (
            (Cohort.CANARY, rate_c, p_canary, median_canary),
            (Cohort.BASELINE, max(0.0, rps - rate_c), p_baseline, median_baseline),
        )
        for cohort, rate, p, median in cohorts:
            n = int(rng.poisson(rate * dt))
            rule.observe(RatioSample(t, cohort, "errors", n, int(rng.binomial(n, p))))
            if latency is not None:
                values = rng.lognormal(math.log(median), sigma, n)
                rule.observe(latency_sample(t, cohort, values, latency))
        verdict = rule.evaluate(t)
        run.verdicts.append(verdict)
        weight = verdict.weight
        if stop_on_final and verdict.action in (Action.ROLLBACK, Action.PROMOTE):
            break
    return run
