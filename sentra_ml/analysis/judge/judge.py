"""The rollout judge: samples in, verdicts out. It only composes the stages:
metric analyzers (evidence) -> policy (action) -> step planner (weight).
"""

from __future__ import annotations

from sentra_ml.analysis.anomaly import ServiceLearner
from sentra_ml.analysis.evidence import MetricAnalyzer, make_analyzer, metric_alphas
from sentra_ml.analysis.judge.drift import DriftWatch
from sentra_ml.analysis.judge.normal import ServiceNormal
from sentra_ml.analysis.judge.policy import decide, score
from sentra_ml.analysis.judge.steps import StepPlanner
from sentra_ml.analysis.judge.traffic_share import TrafficShare
from sentra_ml.analysis.types.errors import SampleError
from sentra_ml.analysis.types.labels import Action
from sentra_ml.analysis.types.samples import Sample
from sentra_ml.analysis.types.specs import RolloutSpec
from sentra_ml.analysis.types.verdict import Verdict

_TERMINAL = (Action.ROLLBACK, Action.PROMOTE)


class RolloutJudge:
    """Streaming judge of one rollout. By default it keeps its own step state as if its advice
    were followed; with `follows_advice=False` its steps move only when told what the traffic
    router verified (`reached`), as the controller does.

    The false-rollback budget `spec.alpha` is split over every regression test of every metric
    (see `metric_alphas`), and each test is anytime-valid, so the chance of ever rolling back a
    canary that is within tolerance stays below `alpha` however often `evaluate` is called.
    With a `learner` (the service's, see `ServiceNormal`) the judge also pauses when the
    baseline leaves the service's normal and holds when the canary does; the learner goes on
    learning the baseline and belongs to the caller, who checkpoints it. The traffic-share
    check (`TrafficShare`, its own budget `alpha`) pauses a canary that serves fewer requests
    than its weight implies and rolls back one whose share collapsed.
    """

    def __init__(
        self,
        spec: RolloutSpec,
        start_ts: float = 0.0,
        learner: ServiceLearner | None = None,
        *,
        follows_advice: bool = True,
    ) -> None:
        self.spec = spec
        self.follows_advice = follows_advice
        alphas = metric_alphas(spec)
        gate_alpha = 1.0 - spec.policy.exposure_confidence
        self.analyzers: dict[str, MetricAnalyzer] = {
            m.name: make_analyzer(m, alphas[m.name], start_ts, gate_alpha, spec.changepoint_seconds)
            for m in spec.metrics
        }
        self.steps = StepPlanner(spec.policy, start_ts)
        self.drift = DriftWatch(spec)
        self.share = TrafficShare(spec, spec.alpha, start_ts)
        self.normal = None if learner is None else ServiceNormal(spec, learner)
        self._final: Verdict | None = None

    @property
    def final(self) -> Verdict | None:
        """The rollback or promotion, once decided."""
        return self._final

    @property
    def weight(self) -> float:
        """The canary weight the judge believes is in force."""
        if self._final is not None:
            return self._final.weight
        return self.steps.weight

    def observe(self, sample: Sample) -> None:
        """Take one sample; raises SampleError for unknown metrics or the wrong sample kind."""
        analyzer = self.analyzers.get(sample.metric)
        if analyzer is None:
            known = ", ".join(sorted(self.analyzers))
            raise SampleError(f"metric: unknown metric '{sample.metric}' (known: {known})")
        analyzer.observe(sample)
        self.drift.observe(sample)
        self.share.observe(sample)
        if self.normal is not None:
            self.normal.observe(sample)

    def evaluate(self, now: float) -> Verdict:
        """Judge everything observed so far; once rolled back or promoted, the verdict sticks."""
        if self._final is not None:
            return self._final
        for analyzer in self.analyzers.values():
            analyzer.close_interval(now)
        self.drift.close(now)
        evidence = [a.evidence(now, self.spec.stale_after_seconds) for a in self.analyzers.values()]
        holds = [d.reason(self.spec.metric(d.metric).tolerance) for d in self.drift.drifting()]
        p_rollback = self.spec.policy.predictive_rollback
        predicted = (
            []
            if p_rollback is None
            else [
                d.reason(self.spec.metric(d.metric).tolerance).replace(": holding", "")
                for d in self.drift.breaching(p_rollback)
            ]
        )
        environment: list[str] = []
        if self.normal is not None:
            self.normal.close(now)
            holds += self.normal.holds()
            environment = self.normal.environment()
        current = self.steps.weight
        share = self.share.close(now)
        decision = decide(
            self.spec, evidence, self.steps, now, holds, environment, predicted, share
        )
        if decision.step_index != self.steps.index and self.follows_advice:
            self._move(decision.step_index, now)
        verdict = Verdict(
            ts=now,
            action=decision.action,
            risk=max((e.risk for e in evidence), default=0.0),
            weight=decision.weight,
            current_weight=current,
            score=score(self.spec, evidence),
            reasons=decision.reasons,
            evidence=tuple(evidence),
            anomaly=None if self.normal is None else self.normal.evidence(),
            hold=decision.hold,
        )
        if verdict.action in _TERMINAL:
            self._final = verdict
        return verdict

    def reached(self, weight: float, now: float) -> None:
        """The router verified `weight` (canary percent) in force at `now`: the step schedule
        stands at the highest step not above it."""
        self.share.applied(weight, now)
        steps = self.spec.policy.steps
        index = max((i for i, w in enumerate(steps) if w <= weight + 1e-9), default=0)
        if index != self.steps.index:
            self._move(index, now)

    def _move(self, index: int, now: float) -> None:
        self.steps.move_to(index, now)
        for analyzer in self.analyzers.values():
            analyzer.start_step()
