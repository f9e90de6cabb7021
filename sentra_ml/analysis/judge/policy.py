"""The one place where per-metric labels become an action. Order matters and is the policy:

1. telemetry missing beyond the grace period -> rollback (fail safe to the last healthy state);
2. the baseline itself moved (its own tests, or the service learner) -> pause, blame nobody;
3. a critical metric regressed, or the score fell below `min_score` -> rollback;
   so does a forecast breach at least as likely as the policy's `predictive_rollback`, and a
   canary whose share of the requests collapsed (the traffic-share check);
4. telemetry missing or stale, or the canary serving less than its weight implies -> pause;
5. a gauge forecast past its tolerance (a slow leak), or a canary unlike anything the service
   has shown (the service learner) -> hold, neither step up nor promote;
6. otherwise the step planner decides between holding, a step, a larger step and promotion.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sentra_ml.analysis.judge.steps import HOLD_RISK, StepPlanner
from sentra_ml.analysis.judge.traffic_share import ShareCheck, ShareFinding
from sentra_ml.analysis.types.labels import Action, MetricStatus
from sentra_ml.analysis.types.specs import RolloutSpec
from sentra_ml.analysis.types.verdict import MetricEvidence


@dataclass(frozen=True)
class Decision:
    action: Action
    weight: float
    step_index: int
    reasons: tuple[str, ...]
    hold: bool = False  # see Verdict.hold


def score(spec: RolloutSpec, evidence: Sequence[MetricEvidence]) -> float | None:
    """Kayenta-style 0-100: the weighted share of metrics with data that did not regress;
    None while no metric has data (nothing to score yet)."""
    judged = [e for e in evidence if e.status not in (MetricStatus.NO_DATA, MetricStatus.STALE)]
    total = sum(spec.metric(e.metric).weight for e in judged)
    if total == 0:
        return None
    passed = sum(
        spec.metric(e.metric).weight for e in judged if e.status is not MetricStatus.REGRESSION
    )
    return 100.0 * passed / total


def exposure_ceiling(spec: RolloutSpec, evidence: Sequence[MetricEvidence]) -> int:
    """The highest step whose weight keeps every metric's plausible harm within budget."""
    budget = spec.policy.harm_budget
    ceiling = -1
    for index, weight in enumerate(spec.policy.steps):
        fits = all(
            e.harm * weight / 100.0 <= budget * spec.metric(e.metric).tolerance for e in evidence
        )
        if not fits:
            break
        ceiling = index
    return ceiling


def decide(
    spec: RolloutSpec,
    evidence: Sequence[MetricEvidence],
    steps: StepPlanner,
    now: float,
    holds: Sequence[str] = (),
    environment: Sequence[str] = (),
    predicted: Sequence[str] = (),
    share: ShareCheck | None = None,
) -> Decision:
    """The action for this evaluation; `holds`, `environment` and `predicted` (forecast
    breaches likely enough to roll back) are the reasons, in words, of the signals that are not
    metric tests (forecasts, the service learner); `share` what the traffic-share check found."""
    by_status: dict[MetricStatus, list[MetricEvidence]] = {s: [] for s in MetricStatus}
    for e in evidence:
        by_status[e.status].append(e)
    held = steps.weight

    def verdict(
        action: Action, weight: float, *reasons: str, index: int | None = None, hold: bool = False
    ) -> Decision:
        at = steps.index if index is None else index
        held_here = hold or action in (Action.PAUSE, Action.ROLLBACK)
        return Decision(action, weight, at, tuple(reasons), held_here)

    limit = spec.stale_after_seconds + spec.grace_seconds
    lost = [e for e in by_status[MetricStatus.STALE] if float(e.details["stale_seconds"]) > limit]
    if lost:
        return verdict(
            Action.ROLLBACK,
            0.0,
            *(f"{e.summary}, beyond the {limit:.0f} s grace period" for e in lost),
            "rolling back to the last healthy state (fail-safe)",
        )
    if by_status[MetricStatus.ENVIRONMENT] or environment:
        return verdict(
            Action.PAUSE,
            held,
            *(e.summary for e in by_status[MetricStatus.ENVIRONMENT]),
            *environment,
            "the environment is degrading for baseline and canary alike: "
            "pausing, not blaming the canary",
        )
    regressed = by_status[MetricStatus.REGRESSION]
    critical = [e for e in regressed if spec.metric(e.metric).critical]
    current_score = score(spec, evidence) or 0.0  # regressed implies data, hence a score
    if critical or (regressed and current_score < spec.min_score):
        why = (
            "critical metric regressed"
            if critical
            else f"score {current_score:.0f} below {spec.min_score:.0f}"
        )
        return verdict(
            Action.ROLLBACK, 0.0, *(e.summary for e in regressed), f"rolling back: {why}"
        )
    if predicted:
        p = spec.policy.predictive_rollback
        return verdict(
            Action.ROLLBACK,
            0.0,
            *predicted,
            f"rolling back before the breach: forecast P >= {p:g} (predictive rollback)",
        )
    if share is not None and share.finding is ShareFinding.COLLAPSE:
        return verdict(Action.ROLLBACK, 0.0, share.reason)
    if share is not None:
        return verdict(Action.PAUSE, held, share.reason)
    if by_status[MetricStatus.STALE]:
        return verdict(
            Action.PAUSE,
            held,
            *(e.summary for e in by_status[MetricStatus.STALE]),
            f"pausing: telemetry missing (rollback after {limit:.0f} s without data)",
        )
    if by_status[MetricStatus.NO_DATA]:
        return verdict(
            Action.CONTINUE,
            held,
            *(e.summary for e in by_status[MetricStatus.NO_DATA]),
            f"waiting for data: holding at {held:g} %",
            hold=True,
        )
    if regressed:
        return verdict(
            Action.CONTINUE,
            held,
            *(e.summary for e in regressed),
            f"holding at {held:g} %: non-critical regression, score {current_score:.0f}",
            hold=True,
        )
    if holds:
        return verdict(Action.CONTINUE, held, *holds, hold=True)
    risk = max((e.risk for e in evidence), default=0.0)
    safe = all(e.status is MetricStatus.SAFE for e in evidence)
    proposal = steps.propose(now, safe=safe, risk=risk, ceiling=exposure_ceiling(spec, evidence))
    notable = [e.summary for e in evidence if e.risk >= HOLD_RISK / 2]
    if proposal.index == steps.index:
        if now - steps.started_at >= steps.policy.max_step_seconds:
            return verdict(
                Action.PAUSE,
                held,
                *notable,
                f"evidence still inconclusive after {steps.policy.max_step_seconds:.0f} s at "
                f"{held:g} %: a person should decide",
            )
        return verdict(Action.CONTINUE, held, *notable, proposal.reason, hold=proposal.hold)
    target = steps.policy.steps[proposal.index]
    if proposal.index == steps.last:
        return verdict(
            Action.PROMOTE, target, *notable, f"promoting: {proposal.reason}", index=proposal.index
        )
    return verdict(
        Action.CONTINUE,
        target,
        *notable,
        f"{held:g} % -> {target:g} %: {proposal.reason}",
        index=proposal.index,
    )
