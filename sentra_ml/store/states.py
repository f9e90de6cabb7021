"""Rollout states and the transitions that manual actions and verdicts may make.

A rollout with a traffic `target` is acted on by the controller: it starts `pending` (its first
weights not yet applied), is `running` while it walks the steps, and passes through `promoting`
or `rolling_back` until the router has verified the final weights. A rollback the router keeps
refusing is `failed`: the controller retries it forever and alarms. A rollout without a target
(its CD system acts on the verdicts) goes straight from `running` to its end.
"""

from __future__ import annotations

from enum import StrEnum

from sentra_ml.analysis.types.labels import Action


class State(StrEnum):
    PENDING = "pending"  # the controller has not yet applied the first weights
    RUNNING = "running"  # progressing: judged, stepping (the weight is on the rollout)
    PAUSED = "paused"  # held by a person; verdicts are still computed, a rollback still happens
    PROMOTING = "promoting"  # promotion decided, the router not yet verified at 100 %
    PROMOTED = "promoted"
    ROLLING_BACK = "rolling_back"  # rollback decided, the router not yet verified at 0 %
    ROLLED_BACK = "rolled_back"
    ABORTED = "aborted"
    FAILED = "failed"  # a rollback that could not be applied; retried with backoff forever


class ManualAction(StrEnum):
    PAUSE = "pause"
    RESUME = "resume"
    PROMOTE = "promote"
    ABORT = "abort"


TERMINAL = frozenset({State.PROMOTED, State.ROLLED_BACK, State.ABORTED})
ACTIVE = frozenset(State) - TERMINAL  # the controller still has something to do
FINISHING = frozenset({State.PROMOTING, State.ROLLING_BACK, State.FAILED})  # no more judging

_MANUAL: dict[ManualAction, tuple[frozenset[State], State]] = {
    ManualAction.PAUSE: (frozenset({State.PENDING, State.RUNNING}), State.PAUSED),
    ManualAction.RESUME: (frozenset({State.PAUSED}), State.RUNNING),
    ManualAction.PROMOTE: (
        frozenset({State.PENDING, State.RUNNING, State.PAUSED}), State.PROMOTED
    ),
    ManualAction.ABORT: (
        frozenset({State.PENDING, State.RUNNING, State.PAUSED, State.PROMOTING}), State.ABORTED
    ),
}  # fmt: skip


class TransitionError(Exception):
    """The action is not allowed in the rollout's state (HTTP 409)."""


def after_action(state: State, action: ManualAction, *, routed: bool = False) -> State:
    """The state a manual action leads to; raises TransitionError when not allowed. With a
    traffic target (`routed`) a promotion or abort goes through the controller first."""
    allowed, target = _MANUAL[action]
    if state not in allowed:
        raise TransitionError(f"cannot {action} a rollout that is {state}")
    if routed and target is State.PROMOTED:
        return State.PROMOTING
    if routed and target is State.ABORTED:
        return State.ROLLING_BACK
    return target


def after_verdict(state: State, action: Action, *, routed: bool = False) -> State:
    """The state a judge's verdict leads to: a paused rollout still rolls back, never promotes."""
    if state in TERMINAL or state in FINISHING:
        return state
    if action is Action.ROLLBACK:
        return State.ROLLING_BACK if routed else State.ROLLED_BACK
    if action is Action.PROMOTE and state in (State.RUNNING, State.PENDING):
        return State.PROMOTING if routed else State.PROMOTED
    return state
