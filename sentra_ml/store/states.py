"""Rollout states and the transitions that manual actions and verdicts may make."""

from __future__ import annotations

from enum import StrEnum


class State(StrEnum):
    RUNNING = "running"
    PAUSED = "paused"  # held by a person; verdicts are still computed, a rollback still happens
    PROMOTED = "promoted"
    ROLLED_BACK = "rolled_back"
    ABORTED = "aborted"


class ManualAction(StrEnum):
    PAUSE = "pause"
    RESUME = "resume"
    PROMOTE = "promote"
    ABORT = "abort"


TERMINAL = frozenset({State.PROMOTED, State.ROLLED_BACK, State.ABORTED})

_MANUAL: dict[ManualAction, tuple[frozenset[State], State]] = {
    ManualAction.PAUSE: (frozenset({State.RUNNING}), State.PAUSED),
    ManualAction.RESUME: (frozenset({State.PAUSED}), State.RUNNING),
    ManualAction.PROMOTE: (frozenset({State.RUNNING, State.PAUSED}), State.PROMOTED),
    ManualAction.ABORT: (frozenset({State.RUNNING, State.PAUSED}), State.ABORTED),
}


class TransitionError(Exception):
    """The action is not allowed in the rollout's state (HTTP 409)."""


def after_action(state: State, action: ManualAction) -> State:
    """The state a manual action leads to; raises TransitionError when not allowed."""
    allowed, target = _MANUAL[action]
    if state not in allowed:
        raise TransitionError(f"cannot {action} a rollout that is {state}")
    return target


def after_verdict(state: State, action: str) -> State:
    """The state a judge's verdict leads to: a paused rollout still rolls back, never promotes."""
    if state in TERMINAL:
        return state
    if action == "rollback":
        return State.ROLLED_BACK
    if action == "promote" and state is State.RUNNING:
        return State.PROMOTED
    return state
