"""The decision rules the benchmark compares, a fresh instance per run, and the oracle's set-up.

The oracle (Wald's SPRT) is told the TRUE fault. It exists where the fault is one fixed change of
a per-request probability: an error step (p1 = the fault's error ratio, p0 = the service's), and
latency faults that make requests slower than a threshold more likely (threshold form: q1, q0 are
the exact exceedance probabilities of the service model, and the threshold is the one that
maximises KL(q1 || q0), i.e. minimises the SPRT's expected number of requests). Time-varying or
weight-dependent faults (slow drift, bursts, saturation) and A/A runs have no oracle.
`oracle_tol` is the same SPRT with the judge's null: the baseline at the edge of tolerance.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Protocol

import numpy as np

from sentra_ml.analysis.anomaly import ServiceLearner
from sentra_ml.analysis.incumbents import ArgoRollouts, Flagger, Kayenta, OracleSPRT
from sentra_ml.analysis.judge import RolloutJudge
from sentra_ml.analysis.types.samples import Sample
from sentra_ml.analysis.types.specs import StepPolicy
from sentra_ml.analysis.types.verdict import Verdict
from sentra_ml.simulate import (
    REFERENCE_WEIGHT,
    ErrorStep,
    LatencyShift,
    Scenario,
    ServiceModel,
    TailLatency,
    default_spec,
    learned_history,
    scenario_library,
)

RULES = ("sentra", "sentra_hold", "kayenta", "flagger", "argo", "oracle")
# ablation: the judge without its forecast holds (what forecasting adds), run by ablation.py
ABLATIONS = ("sentra", "sentra_no_forecast")
# the judge with the service's learner after a day of the scenario's baseline, run by learner.py
LEARNER_RULES = ("sentra", "sentra_learner")
HISTORY_HOURS = 26.0  # the daily views need more than a day
HISTORY_SEED = 7
INCUMBENTS = ("kayenta", "flagger", "argo")
# the judge's tolerance in `default_spec` for errors and latency: the tolerance-aware oracle's null
TOLERANCE = 0.2
# sentra_hold: Sentra's judge with its step schedule frozen at the first step (never steps,
# never promotes, never pauses for a slow step): the pure detection speed of its tests, for
# measurement A only, where the harness holds the weight and a walking schedule can promote.
HOLD = StepPolicy(min_step_seconds=1e9, max_step_seconds=1e9)


class Rule(Protocol):
    """What the harness drives: Sentra's judge and every incumbent have this shape."""

    @property
    def weight(self) -> float: ...

    def observe(self, sample: Sample) -> None: ...

    def evaluate(self, now: float) -> Verdict: ...


@dataclass(frozen=True)
class OracleConfig:
    """The oracle's knowledge of one fault: error ratios, or a latency threshold's exceedances."""

    bad: float  # p1 or q1
    base: float  # p0 or q0
    threshold_ms: float | None = None

    def describe(self) -> str:
        if self.threshold_ms is None:
            return f"error ratio p1={self.bad:.4g} vs p0={self.base:.4g}"
        return (
            f"P(latency > {self.threshold_ms:.0f} ms) q1={self.bad:.4g} vs q0={self.base:.4g}"
            f" (KL {bernoulli_kl(self.bad, self.base):.4f} nats/request)"
        )


def make_rule(
    name: str, scenario: Scenario, oracle_weight: float = REFERENCE_WEIGHT
) -> Rule | None:
    """A fresh rule with its defaults; None for the oracle where the fault has no oracle."""
    if name == "sentra":
        return RolloutJudge(default_spec())
    if name == "sentra_hold":
        return RolloutJudge(default_spec(policy=HOLD))
    if name == "sentra_learner":
        learner = ServiceLearner.from_bytes(_history(scenario.name))
        return RolloutJudge(default_spec(), learner=learner)
    if name == "sentra_cumulative":  # the rule before change-point tests: each from the start
        return RolloutJudge(dataclasses.replace(default_spec(), changepoint_seconds=0.0))
    if name == "sentra_hold_cumulative":
        return RolloutJudge(dataclasses.replace(default_spec(policy=HOLD), changepoint_seconds=0.0))
    if name == "oracle_tol":
        cfg = oracle_config(scenario, TOLERANCE)
        if cfg is None:
            return None
        return _oracle(cfg, scenario.fault.onset, oracle_weight)
    if name == "sentra_no_forecast":
        return RolloutJudge(dataclasses.replace(default_spec(), forecast_horizon_seconds=0.0))
    if name == "kayenta":
        return Kayenta()
    if name == "flagger":
        return Flagger()
    if name == "argo":
        return ArgoRollouts()
    if name == "oracle":
        cfg = oracle_config(scenario)
        if cfg is None:
            return None
        return _oracle(cfg, scenario.fault.onset, oracle_weight)
    raise ValueError(f"unknown rule {name!r} (known: {', '.join(RULES)})")


def _oracle(cfg: OracleConfig, onset: float, weight: float) -> OracleSPRT:
    if cfg.threshold_ms is None:
        return OracleSPRT(p1=cfg.bad, p0=cfg.base, onset=onset, weight=weight)
    return OracleSPRT(
        threshold_ms=cfg.threshold_ms, q1=cfg.bad, q0=cfg.base, onset=onset, weight=weight
    )


@cache
def _history(name: str) -> bytes:
    """The learner's checkpoint after HISTORY_HOURS of the scenario (once per process)."""
    return learned_history(scenario_library()[name], HISTORY_HOURS, HISTORY_SEED).to_bytes()


def oracle_config(scenario: Scenario, tolerance: float = 0.0) -> OracleConfig | None:
    """The true fault as the oracle needs it, or None where no fixed-parameter SPRT exists.

    With a `tolerance` the null is not the baseline but its edge of tolerance, as the judge's
    is: an error ratio `(1 + tolerance)` times the baseline's, or latencies `(1 + tolerance)`
    times the baseline's (the tolerance-aware oracle)."""
    fault, service = scenario.fault, scenario.service
    if isinstance(fault, ErrorStep):
        return OracleConfig(fault.ratio, service.error_ratio * (1.0 + tolerance))
    if isinstance(fault, LatencyShift):
        factor = fault.factor

        def bad(x: float) -> float:
            return latency_survival(service, x / factor)

    elif isinstance(fault, TailLatency):
        p, slow = fault.p_slow, fault.slow_factor

        def bad(x: float) -> float:
            return (1 - p) * latency_survival(service, x) + p * latency_survival(service, x / slow)

    else:
        return None
    return _best_threshold(service, bad, 1.0 + tolerance)


def _best_threshold(
    service: ServiceModel, bad: Callable[[float], float], scale: float = 1.0
) -> OracleConfig | None:
    best: OracleConfig | None = None
    best_kl = 0.0
    for x in np.geomspace(1.0, 0.999 * service.timeout_ms, 2000).tolist():
        q1, q0 = bad(x), latency_survival(service, x / scale)
        if 1e-9 < q0 < 1 - 1e-9 and 1e-9 < q1 < 1 - 1e-9:
            kl = bernoulli_kl(q1, q0)
            if kl > best_kl:
                best, best_kl = OracleConfig(q1, q0, x), kl
    return best


def latency_survival(service: ServiceModel, x: float) -> float:
    """P(a healthy request's latency > x ms) under the service model (lognormal + Pareto tail)."""
    if x >= service.timeout_ms:
        return 0.0
    if x <= 0:
        return 1.0
    z = (math.log(x) - math.log(service.latency_median_ms)) / service.latency_sigma
    lognormal = 0.5 * math.erfc(z / math.sqrt(2.0)) if service.latency_sigma > 0 else 0.0
    pareto = 1.0 if x < service.tail_start_ms else (service.tail_start_ms / x) ** service.tail_alpha
    f = service.tail_fraction
    return (1 - f) * lognormal + f * pareto


def bernoulli_kl(a: float, b: float) -> float:
    """KL(Bernoulli(a) || Bernoulli(b)) in nats."""
    return a * math.log(a / b) + (1 - a) * math.log((1 - a) / (1 - b))
