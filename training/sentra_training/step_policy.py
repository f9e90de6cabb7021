"""Learn a service's step policy from its past rollouts: how fast its healthy canaries could have
been promoted at the same risk.

The service's past rollouts give its traffic, error ratio and latency (`traffic_profile`). A
simulated service with those numbers is rolled out, by Sentra's own judge, under the policy the
service uses today and under candidates that start at a higher weight or hold each step for less
time. Every policy sees the same seeds: healthy canaries, and canaries whose error ratio triples
(from the start and one minute in) or whose latency grows by 30 %. A candidate is admissible
when it rolls back no more healthy canaries, catches as many faulty canaries of each kind, and
lets no more requests fail beyond the baseline's rate than today's policy, all kinds together (the
same expected harm per faulty release when each kind is as likely; `Outcome.by_fault` keeps
each kind's share, since a higher first weight catches a release bad from the start sooner and
one that goes bad later at a higher weight). The learned policy is the admissible one whose
healthy canaries were promoted soonest, once it is admissible again on the faulty canaries of
`CONFIRM` times as many fresh seeds (today's policy, when none is).
"""

from __future__ import annotations

import dataclasses
import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sentra_ml.analysis.judge import RolloutJudge
from sentra_ml.analysis.types.labels import Action, MetricKind
from sentra_ml.analysis.types.specs import RolloutSpec, StepPolicy
from sentra_ml.simulate import (
    ERRORS,
    LATENCY,
    ErrorStep,
    Fault,
    LatencyShift,
    NoFault,
    Scenario,
    ServiceModel,
    Simulator,
)
from sentra_training.fit import TrainedModel
from sentra_training.rollout_history import PastRollout, latency_metric, ratio_metric
from sentra_training.series import InputError, Progress
from sentra_training.traffic_profile import TrafficProfile, traffic_profile

DT = 2.0  # the controller's judging interval
HORIZON = 900.0  # a simulated rollout undecided by then counts as never promoted
FIRST_WEIGHTS = (2.0, 5.0)  # candidate first steps, when the schedule has them
CONFIRM = 3  # fresh seeds per run that confirm a faster candidate on faulty canaries
LATENCY_SIGMA = 0.5  # the simulator's log-sd: turns the recorded quantile into a median
Z = {0.5: 0.0, 0.9: 1.2816, 0.95: 1.6449, 0.99: 2.3263, 0.999: 3.0902}


@dataclass(frozen=True)
class PolicyOptions:
    runs: int = 5  # simulated rollouts per policy and scenario
    seed: int = 0
    min_rollouts: int = 3  # promoted rollouts needed in the audit database

    def check(self) -> None:
        if not 1 <= self.runs <= 200:
            raise InputError("--policy-runs: must be in [1, 200]")


@dataclass(frozen=True)
class Outcome:
    """A policy's simulated rollouts, summed over the seeds."""

    promote_seconds: float  # median over the healthy runs (inf: fewer than half promoted)
    false_rollbacks: int
    caught: int  # faulty runs rolled back
    faulty: int
    excess_failed: float  # failed requests beyond the baseline's rate, all faulty runs
    by_fault: dict[str, tuple[int, float]] = field(default_factory=dict)  # caught, excess

    def admissible_against(self, today: Outcome) -> bool:
        """No more false rollbacks, every fault kind caught as often, no more excess failures
        over all fault kinds together."""
        caught = all(
            self.by_fault.get(kind, (0, 0.0))[0] >= n for kind, (n, _) in today.by_fault.items()
        )
        return (
            self.false_rollbacks <= today.false_rollbacks
            and self.caught >= today.caught
            and caught
            and self.excess_failed <= today.excess_failed + 1e-9
        )

    def to_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["excess_failed"] = round(self.excess_failed, 2)
        out["by_fault"] = {k: [c, round(x, 2)] for k, (c, x) in self.by_fault.items()}
        if not math.isfinite(self.promote_seconds):  # JSON has no infinity
            out["promote_seconds"] = None
        return out


@dataclass(frozen=True)
class LearnedPolicy:
    """The policy fields learned, what they were learned from and how they compared."""

    fields: dict[str, Any]  # the StepPolicy fields the controller uses in place of the defaults
    profile: TrafficProfile
    today: Outcome
    learned: Outcome
    candidates: int
    runs: int
    rejected: tuple[str, ...] = ()  # faster candidates that failed on fresh faulty seeds

    def card(self) -> dict[str, Any]:
        """The `policy` entry of the model card."""
        return {
            **self.fields,
            "learned_from": self.profile.to_dict(),
            "noisy_metrics": self.profile.noisy_metrics(),
            "simulated": {
                "today": self.today.to_dict(),
                "learned": self.learned.to_dict(),
                "candidates": self.candidates,
                "runs_per_scenario": self.runs,
                "confirmation_runs_per_fault": CONFIRM * self.runs,
                "rejected_on_confirmation": list(self.rejected),
            },
        }

    def metrics(self) -> dict[str, float]:
        return {
            "policy.recorded_promote_s": self.profile.promote_seconds,
            "policy.today_promote_s": self.today.promote_seconds,
            "policy.learned_promote_s": self.learned.promote_seconds,
            "policy.today_excess_failed": self.today.excess_failed,
            "policy.learned_excess_failed": self.learned.excess_failed,
            "policy.first_weight": float(self.fields["steps"][0]),
            "policy.min_step_seconds": float(self.fields["min_step_seconds"]),
            "policy.total_rps": self.profile.total_rps,
        }


def _scenarios(profile: TrafficProfile) -> list[tuple[str, Scenario]]:
    latency = profile.latency
    z = Z.get(profile.quantile or 0.99, 2.3263)
    median = 80.0 if latency is None or latency <= 0 else latency / math.exp(z * LATENCY_SIGMA)
    service = ServiceModel(
        error_ratio=min(max(profile.error_ratio, 1e-4), 0.3),
        latency_median_ms=median,
        latency_sigma=LATENCY_SIGMA,
    )
    bad = min(1.0, 3 * service.error_ratio)
    faults: list[tuple[str, Fault]] = [
        ("healthy", NoFault()),
        ("errors_from_start", ErrorStep(0.0, bad)),
        ("errors_after_60s", ErrorStep(60.0, bad)),
        ("latency_after_60s", LatencyShift(60.0, 1.3)),
    ]
    rps = max(profile.total_rps, 1e-3)
    return [(name, Scenario(name, rps, service=service, fault=f)) for name, f in faults]


def search_spec(spec: RolloutSpec) -> RolloutSpec:
    """The service's spec on the simulator's metrics: its first ratio and latency metric, renamed
    to what the simulator emits (gauges depend on an instance model the history does not give)."""
    metrics = []
    for name, as_name in ((ratio_metric(spec), ERRORS), (latency_metric(spec), LATENCY)):
        if name is not None:
            metrics.append(dataclasses.replace(spec.metric(name), name=as_name))
    return dataclasses.replace(spec, metrics=tuple(metrics), service="simulated")


def candidates(policy: StepPolicy) -> list[StepPolicy]:
    """Today's policy first, then the same schedule started higher and/or held half as long."""
    firsts = [policy.steps[0]] + [w for w in FIRST_WEIGHTS if w in policy.steps[1:-1]]
    holds = [policy.min_step_seconds, policy.min_step_seconds / 2]
    out = []
    for hold in holds:
        for first in firsts:
            steps = tuple(w for w in policy.steps if w >= first)
            out.append(dataclasses.replace(policy, steps=steps, min_step_seconds=hold))
    return out


def simulate(spec: RolloutSpec, scenario: Scenario, seed: int) -> tuple[Action, float, float]:
    """One rollout of `scenario` judged by `spec`: its end, when, and the excess failures."""
    judge = RolloutJudge(spec, 0.0)
    sim = Simulator(scenario, seed)
    t, weight = 0.0, judge.weight
    judged = set(judge.analyzers)
    while t < HORIZON:
        for sample in sim.tick(t, DT, weight):
            if sample.metric in judged:
                judge.observe(sample)
        t += DT
        verdict = judge.evaluate(t)
        weight = verdict.weight
        if verdict.action in (Action.ROLLBACK, Action.PROMOTE):
            return verdict.action, t, float(sim.excess_failed)
    return Action.CONTINUE, math.inf, float(sim.excess_failed)


def evaluate(
    spec: RolloutSpec,
    scenarios: Sequence[tuple[str, Scenario]],
    seeds: Sequence[int],
    progress: Progress | None = None,
) -> Outcome:
    healthy: list[float] = []
    false_rollbacks = caught = faulty = 0
    excess = 0.0
    by_fault: dict[str, tuple[int, float]] = {}
    for name, scenario in scenarios:
        for seed in seeds:
            action, t, failed = simulate(spec, scenario, seed)
            if progress is not None:
                progress(1)
            if name == "healthy":
                healthy.append(t if action is Action.PROMOTE else math.inf)
                false_rollbacks += action is Action.ROLLBACK
            else:
                faulty += 1
                caught += action is Action.ROLLBACK
                excess += failed
                so_far = by_fault.get(name, (0, 0.0))
                by_fault[name] = (so_far[0] + (action is Action.ROLLBACK), so_far[1] + failed)
    pace = statistics.median(healthy) if healthy else math.inf
    return Outcome(pace, false_rollbacks, caught, faulty, excess, by_fault)


def simulations(policy: StepPolicy, options: PolicyOptions) -> int:
    """How many simulated rollouts `learn_policy` runs (for a progress bar)."""
    return len(candidates(policy)) * 4 * options.runs


def learn_policy(
    past: Sequence[PastRollout], options: PolicyOptions, progress: Progress | None = None
) -> LearnedPolicy:
    """The service's step policy (see the module doc); InputError when the audit database holds
    too few of its rollouts."""
    options.check()
    profile = traffic_profile(past, options.min_rollouts)
    spec = search_spec(next(r.spec for r in reversed(past) if r.promoted))
    if not any(m.kind is MetricKind.RATIO for m in spec.metrics):
        raise InputError("rollouts: the service's spec has no ratio metric to count requests by")
    scenarios = _scenarios(profile)
    seeds = [options.seed * 10_000 + i for i in range(options.runs)]
    tried = candidates(spec.policy)
    outcomes = [
        evaluate(dataclasses.replace(spec, policy=p), scenarios, seeds, progress) for p in tried
    ]
    today = outcomes[0]
    # a faster admissible candidate must stay admissible on the faulty canaries of fresh seeds
    # (CONFIRM x as many): a fault missed one time in ten hides easily in a few runs
    fresh = [options.seed * 10_000 + options.runs + i for i in range(CONFIRM * options.runs)]
    faults = [(name, sc) for name, sc in scenarios if name != "healthy"]
    today_fresh: Outcome | None = None
    best, rejected = 0, []
    for i in sorted(range(1, len(tried)), key=lambda i: outcomes[i].promote_seconds):
        outcome = outcomes[i]
        if not outcome.promote_seconds < today.promote_seconds:
            break
        if not outcome.admissible_against(today):
            continue
        if today_fresh is None:
            today_fresh = evaluate(dataclasses.replace(spec, policy=tried[0]), faults, fresh)
        again = evaluate(dataclasses.replace(spec, policy=tried[i]), faults, fresh)
        if again.admissible_against(today_fresh):
            best = i
            break
        rejected.append(_describe(tried[i]))
    chosen = tried[best]
    fields = {"steps": list(chosen.steps), "min_step_seconds": chosen.min_step_seconds}
    return LearnedPolicy(
        fields, profile, today, outcomes[best], len(tried), options.runs, tuple(rejected)
    )


def _describe(policy: StepPolicy) -> str:
    steps = "/".join(f"{w:g}" for w in policy.steps)
    return f"{steps} %, hold {policy.min_step_seconds:g} s"


def with_policy(trained: TrainedModel, learned: LearnedPolicy) -> TrainedModel:
    """`trained` with the learned policy in its model card, metrics and parameters: the learner
    and the policy are versioned, published and rolled back together."""
    model = dataclasses.replace(
        trained.model, card={**trained.model.card, "policy": learned.card()}
    )
    metrics = {k: v if math.isfinite(v) else math.nan for k, v in learned.metrics().items()}
    params = {
        "policy.runs": learned.runs,
        "policy.steps": "/".join(f"{w:g}" for w in learned.fields["steps"]),
        "policy.min_step_seconds": learned.fields["min_step_seconds"],
    }
    return dataclasses.replace(
        trained,
        model=model,
        metrics={**trained.metrics, **metrics},
        params={**trained.params, **params},
    )
