"""The shape shared by every metric analyzer, and the one place that turns its checks into a label.

An analyzer owns the sequential tests of one metric. Each *check* is one hypothesis pair:
"the canary is worse than tolerated" (its e-value decides rollbacks) and "the canary is within
tolerance" (its e-value, over the current step only, decides fast steps). The regression
e-value is a change-point e-detector (`stats.changepoint`) that looks for an onset anywhere in
the first `changepoint_seconds` of the rollout, so healthy data before a fault's onset does not
dilute the evidence after it; with `changepoint_seconds=0`, and always for gauges (see
`gauge`), it is the cumulative test from the rollout's start. Either is anytime-valid: a
canary within tolerance throughout is rolled back with probability at most the check's alpha,
however long the rollout.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass

from sentra_ml.analysis.types.errors import SampleError, SpecError
from sentra_ml.analysis.types.labels import Cohort, Direction, MetricKind, MetricStatus
from sentra_ml.analysis.types.samples import Sample
from sentra_ml.analysis.types.specs import CHANGEPOINT_SECONDS, MetricSpec, RolloutSpec
from sentra_ml.analysis.types.verdict import Interval, MetricEvidence


@dataclass(frozen=True)
class Check:
    """One tested hypothesis pair of a metric, with what a person needs to read it."""

    label: str
    log_e_regression: float
    log_e_safe: float
    threshold: float
    effect: Interval | None
    text: str
    harm: float = math.inf  # upper bound of the bad-direction relative effect, exposure level


def sides(direction: Direction) -> tuple[int, ...]:
    """+1 tests for an increase, -1 for a decrease."""
    return {Direction.INCREASE: (1,), Direction.DECREASE: (-1,), Direction.EITHER: (1, -1)}[
        direction
    ]


# Shares of the false-rollback budget: a critical metric's tests get twice an ordinary test's,
# an SLO check (a backstop for large breaches, which need little evidence) a quarter.
CRITICAL_SHARE = 2.0
SLO_SHARE = 0.25


def comparison_tests(spec: MetricSpec) -> int:
    """How many canary-versus-baseline regression tests a metric runs."""
    per_side = len(spec.quantiles) if spec.kind is MetricKind.LATENCY else 1
    return per_side * len(sides(spec.direction))


def _test_share(spec: MetricSpec) -> float:
    return CRITICAL_SHARE if spec.critical else 1.0


def alpha_share(spec: MetricSpec) -> float:
    """The metric's weight in the split of alpha over all regression tests of a rollout."""
    slo = SLO_SHARE if spec.slo is not None else 0.0
    return comparison_tests(spec) * _test_share(spec) + slo


def metric_alphas(spec: RolloutSpec) -> dict[str, float]:
    """Each metric's part of the rollout's false-rollback budget `spec.alpha`, by alpha_share."""
    shares = sum(alpha_share(m) for m in spec.metrics)
    return {m.name: spec.alpha * alpha_share(m) / shares for m in spec.metrics}


def check_alphas(spec: MetricSpec, alpha: float) -> tuple[float, float]:
    """A metric's budget `alpha` split into each comparison check's part and the SLO check's."""
    share = alpha_share(spec)
    return alpha * _test_share(spec) / share, alpha * SLO_SHARE / share


class MetricAnalyzer(ABC):
    """Streaming analysis of one metric over both cohorts, spending `alpha` (its part of the
    rollout's budget, see `metric_alphas`) on its regression tests.

    A `MetricSpec` is valid once it exists (it refuses, for one, a tolerance of 1 or more where
    a decrease is bad, which the decrease tests could not express), so an analyzer takes any.
    """

    kind: MetricKind

    def __init__(
        self,
        spec: MetricSpec,
        alpha: float,
        start_ts: float = 0.0,
        gate_alpha: float = 0.2,
        changepoint_seconds: float = CHANGEPOINT_SECONDS,
    ) -> None:
        if spec.kind is not self.kind:
            raise SpecError(
                f"metrics[{spec.name}].kind: {type(self).__name__} analyses {self.kind} metrics, "
                f"not {spec.kind}"
            )
        self.spec = spec
        self.alpha = alpha
        self.gate_alpha = gate_alpha
        self.changepoint_seconds = changepoint_seconds
        self.test_alpha, self.slo_alpha = check_alphas(spec, alpha)
        self.threshold = math.log(1.0 / self.test_alpha)
        self.slo_threshold = math.log(1.0 / self.slo_alpha)
        self.start_ts = start_ts
        self.last_seen: dict[Cohort, float] = {}

    def observe(self, sample: Sample) -> None:
        """Take one sample of this metric; raises SampleError if it is of the wrong kind."""
        self._observe(sample)
        previous = self.last_seen.get(sample.cohort, -math.inf)
        self.last_seen[sample.cohort] = max(previous, sample.ts)

    @abstractmethod
    def _observe(self, sample: Sample) -> None: ...

    @abstractmethod
    def close_interval(self, now: float) -> None:
        """Feed the tests with what arrived since the last call."""

    @abstractmethod
    def start_step(self) -> None:
        """Forget the step-local evidence: the canary weight has just changed."""

    @abstractmethod
    def checks(self) -> list[Check]: ...

    @abstractmethod
    def baseline_shift(self, now: float) -> str | None:
        """A description of how the baseline left its own normal, or None if it did not."""

    def wrong_kind(self, sample: Sample) -> SampleError:
        return SampleError(
            f"metric: '{self.spec.name}' is a {self.kind} metric, got a {type(sample).__name__}"
        )

    def evidence(self, now: float, stale_after: float) -> MetricEvidence:
        """Label this metric at time `now` and say why, in words."""
        name = self.spec.name
        stale = {
            c: now - self.last_seen.get(c, self.start_ts) for c in (Cohort.BASELINE, Cohort.CANARY)
        }
        worst = max(stale, key=lambda c: stale[c])
        if stale[worst] > stale_after:
            missing = [str(c) for c in stale if stale[c] > stale_after]
            return MetricEvidence(
                metric=name,
                status=MetricStatus.STALE,
                effect=None,
                e_value=1.0,
                risk=0.0,
                summary=f"{name}: no data from {' and '.join(missing)} for {stale[worst]:.0f} s",
                details={"stale_seconds": stale[worst], "cohorts": ",".join(missing)},
            )
        if len(self.last_seen) < 2:
            return MetricEvidence(
                metric=name,
                status=MetricStatus.NO_DATA,
                effect=None,
                e_value=1.0,
                risk=0.0,
                summary=f"{name}: waiting for data from both cohorts",
            )
        checks = self.checks()
        worst_check = max(checks, key=lambda c: c.log_e_regression - c.threshold)
        risk = min(1.0, max(0.0, worst_check.log_e_regression / worst_check.threshold))
        details: dict[str, float | str] = {
            f"{c.label}.log_e_regression": round(c.log_e_regression, 3) for c in checks
        }
        details.update({f"{c.label}.log_e_safe": round(c.log_e_safe, 3) for c in checks})
        details["log_threshold"] = round(self.threshold, 3)
        shift = self.baseline_shift(now)
        regressed = [c for c in checks if c.log_e_regression >= c.threshold]
        if shift is not None:
            status, summary = MetricStatus.ENVIRONMENT, f"{name}: baseline itself {shift}"
        elif regressed:
            status = MetricStatus.REGRESSION
            summary = f"{name}: " + "; ".join(c.text for c in regressed)
        elif all(c.log_e_safe >= c.threshold for c in checks):
            status = MetricStatus.SAFE
            summary = f"{name}: within tolerance ({worst_check.text})"
        else:
            status = MetricStatus.INCONCLUSIVE
            summary = f"{name}: {worst_check.text}"
        return MetricEvidence(
            metric=name,
            status=status,
            effect=worst_check.effect,
            e_value=math.exp(min(worst_check.log_e_regression, 700.0)),
            risk=risk,
            summary=summary,
            details=details,
            harm=max(c.harm for c in checks),
        )
