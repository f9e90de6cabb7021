"""What a routed rollout's state and verdict ask of the router, and where its state goes next.

pending -> running (the first step verified) -> promoting -> promoted, or -> rolling_back ->
rolled_back (aborted, when a person aborted), or failed: a rollback the router keeps refusing,
retried with backoff until it is applied. A person's pause holds the weights: the judge goes on
judging and a rollback still happens.
"""

from __future__ import annotations

from dataclasses import dataclass

from sentra_ml.analysis.types.labels import Action
from sentra_ml.store.states import State, after_verdict

FAILED_AFTER = 3  # failed attempts after which a rollback that cannot be applied is `failed`


@dataclass(frozen=True)
class Plan:
    state: State  # the state while the weights below are being applied
    canary: float | None  # the weight to have in force, or None to leave the router alone


def plan(state: State, action: Action, proposed: float, first_step: float) -> Plan:
    """The state a verdict leads to, and the canary weight that state needs in force."""
    state = after_verdict(state, action, routed=True)
    if state in (State.ROLLING_BACK, State.FAILED):
        return Plan(state, 0.0)
    if state is State.PROMOTING:
        return Plan(state, 100.0)
    if state is State.PENDING:
        return Plan(state, first_step)
    if state is State.RUNNING and action is Action.CONTINUE:
        return Plan(state, proposed)
    return Plan(state, None)  # paused by a person, or the judge pauses: hold the weights


def settled(state: State, ending: State | None) -> State:
    """The state once the plan's weights are verified in force."""
    if state is State.PENDING:
        return State.RUNNING
    if state is State.PROMOTING:
        return State.PROMOTED
    if state in (State.ROLLING_BACK, State.FAILED):
        return ending or State.ROLLED_BACK
    return state


def unapplied(state: State, failures: int) -> State:
    """The state after `failures` attempts in a row that did not reach the plan's weights."""
    if state is State.ROLLING_BACK and failures >= FAILED_AFTER:
        return State.FAILED
    return state


def backoff(failures: int) -> float:
    """Seconds before the next router attempt after `failures` failures in a row."""
    return float(min(30.0, 0.5 * 2 ** max(0, failures - 1)))
