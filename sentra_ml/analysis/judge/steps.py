"""Where the canary weight goes next: the step schedule walked at the pace the evidence allows."""

from __future__ import annotations

from dataclasses import dataclass

from sentra_ml.analysis.types.specs import StepPolicy

# Above this risk (the strongest regression evidence as a fraction of the rollback threshold),
# the judge holds the weight and gathers evidence instead of exposing more users.
HOLD_RISK = 0.5


@dataclass(frozen=True)
class StepProposal:
    index: int
    reason: str
    hold: bool = False  # the evidence keeps the weight here (not just the step's minimum time)


class StepPlanner:
    """Tracks the current step and proposes the next one.

    A step lasts at least `min_step_seconds`. The weight only grows as far as the exposure gate
    allows (`ceiling`, from the policy): the larger the next weight, the tighter the evidence
    must bound the harm. With every metric shown within tolerance (`safe`) an adaptive policy
    skips a step; with no alarm (risk below HOLD_RISK) it takes one; otherwise it holds.
    """

    def __init__(self, policy: StepPolicy, start_ts: float) -> None:
        self.policy = policy
        self.index = 0
        self.started_at = start_ts

    @property
    def weight(self) -> float:
        return self.policy.steps[self.index]

    @property
    def last(self) -> int:
        return len(self.policy.steps) - 1

    def propose(self, now: float, *, safe: bool, risk: float, ceiling: int) -> StepProposal:
        """The next step index (possibly the current one) and why."""
        elapsed = now - self.started_at
        p = self.policy
        here = f"{elapsed:.0f} s at {self.weight:g} %"
        if elapsed < p.min_step_seconds:
            return StepProposal(self.index, f"{here} of at least {p.min_step_seconds:.0f} s")
        if risk >= HOLD_RISK:
            return StepProposal(self.index, f"holding: risk {risk:.2f} after {here}", hold=True)
        if ceiling <= self.index:
            return StepProposal(
                self.index,
                f"holding: after {here} the evidence does not yet bound the harm of more traffic",
                hold=True,
            )
        if safe:
            jump = 2 if p.adaptive else 1
            return StepProposal(
                min(self.index + jump, ceiling), f"every metric shown within tolerance after {here}"
            )
        return StepProposal(self.index + 1, f"no regression after {here} (risk {risk:.2f})")

    def move_to(self, index: int, now: float) -> None:
        self.index = index
        self.started_at = now
