"""One tick of one rollout: telemetry in, judge, act through the router, audit, publish.

Every tick ends in a fresh verdict. An exception while judging counts as no verdict: the
rollout pauses, and rolls back once it has had none for its stale period plus grace period,
exactly as when its telemetry stops (fail-safe). The router is told the weights the state
needs; only weights it verified are fed back to the judge and recorded as reached.
"""

from __future__ import annotations

import logging
import math
from typing import Any

from sentra_controller import phases
from sentra_controller.apply import Outcome
from sentra_controller.tracked import Tracked
from sentra_ml.analysis.types.labels import Action
from sentra_ml.store.states import State, after_verdict

log = logging.getLogger("sentra.controller")


def no_verdict(tracked: Tracked, now: float, error: BaseException) -> dict[str, Any]:
    """The verdict of a tick whose judging failed: pause, then roll back after the grace. Its
    `action` is an Action, as in every verdict the tick handles (a str on the wire only)."""
    spec = tracked.session.spec
    since = tracked.failing_since if tracked.failing_since is not None else now
    tracked.failing_since = since
    limit = spec.stale_after_seconds + spec.grace_seconds
    what = f"{type(error).__name__}: {str(error)[:200]}"
    held = tracked.applied if tracked.routed else tracked.session.judge.weight
    if now - since >= limit:
        action, weight = Action.ROLLBACK, 0.0
        reasons = [
            f"no verdict for {now - since:.0f} s: judging fails ({what})",
            f"rolling back to the last healthy state after the {limit:.0f} s grace (fail-safe)",
        ]
    else:
        action, weight = Action.PAUSE, held or 0.0
        reasons = [
            f"no verdict: judging failed ({what})",
            f"pausing; rollback if there is still no verdict {limit - (now - since):.0f} s on",
        ]
    return {
        "ts": now, "action": action, "risk": 1.0, "weight": weight,
        "current_weight": held or 0.0, "score": None, "hold": True, "reasons": reasons,
        "evidence": [],
        "anomaly": None, "judging_error": what, "failing_since": since,
    }  # fmt: skip


def act(tracked: Tracked, started: State, ending: State | None, data: dict[str, Any]) -> State:
    """Bring the router to the weights the verdict's state needs; rewrite `data` to say what
    is in force (`weight`) and what the judge proposed (`proposed_weight`). The new state."""
    assert tracked.applier is not None
    now = float(data["ts"])
    spec = tracked.session.spec
    proposed = float(data["weight"])
    plan = phases.plan(started, data["action"], proposed, spec.policy.steps[0])
    state, want = plan.state, plan.canary
    note = None
    if want is not None and not _holds(tracked, want):
        note = _attempt(tracked, want, now)
    if want is not None and _holds(tracked, want):
        state = phases.settled(state, ending)
    elif want is not None:
        state = phases.unapplied(state, tracked.failures)
    _say_finishing(data, state, ending)
    data["proposed_weight"] = proposed
    data["weight"] = tracked.applied if tracked.applied is not None else 0.0
    data["router"] = {
        "kind": getattr(tracked.applier.router, "kind", "unknown"),
        "applied_weight": tracked.applied,
        "wanted_weight": want,
        "error": note,
    }
    if note is not None:
        if data["action"] in (Action.CONTINUE, Action.PROMOTE) and state is not State.PROMOTING:
            data["action"] = Action.PAUSE
        data["reasons"] = [*data["reasons"], note]
    return state


def _say_finishing(data: dict[str, Any], state: State, ending: State | None) -> None:
    """A rollout being ended (by the judge or a person) says so in its verdict's action."""
    ends = {
        State.ROLLING_BACK: Action.ROLLBACK,
        State.FAILED: Action.ROLLBACK,
        State.ROLLED_BACK: Action.ROLLBACK,
        State.ABORTED: Action.ROLLBACK,
        State.PROMOTING: Action.PROMOTE,
        State.PROMOTED: Action.PROMOTE,
    }
    action = ends.get(state)
    if action is None or data["action"] is action:
        return
    data["action"] = action
    doing = "restoring the baseline" if action is Action.ROLLBACK else "moving all traffic"
    who = " (aborted by a person)" if ending is State.ABORTED else ""
    data["reasons"] = [f"the rollout is {state}{who}: {doing}", *data["reasons"]]


def _holds(tracked: Tracked, want: float) -> bool:
    if tracked.applied is None:
        return False
    assert tracked.applier is not None
    resolution = float(getattr(tracked.applier.router, "resolution", 0.1))
    return abs(tracked.applied - want) <= resolution / 2


def _attempt(tracked: Tracked, want: float, now: float) -> str | None:
    """One router attempt, unless backing off; the problem in words, or None when applied."""
    assert tracked.applier is not None
    if now < tracked.retry_at:
        wait = tracked.retry_at - now
        return f"router: retrying in {wait:.0f} s ({tracked.last_error})"
    if tracked.unconfirmed:  # first learn what the router holds: never act on a guess
        in_force = tracked.applier.reconcile()
        if in_force is None:
            return _failed(tracked, now, "the last change is unconfirmed; the router is unreadable")
        tracked.applied, tracked.unconfirmed = in_force, False
        if _holds(tracked, want):
            _applied(tracked, want, now)
            return None
    result = tracked.applier.apply(want, token=tracked.token, ts=now, previous=tracked.applied)
    if result.reached:
        _applied(tracked, want, now)
        return None
    tracked.unconfirmed = result.outcome is Outcome.FAILED
    return _failed(tracked, now, f"canary {want:g} % {result.outcome}: {result.detail}")


def _applied(tracked: Tracked, want: float, now: float) -> None:
    tracked.applied = want
    tracked.failures, tracked.retry_at, tracked.last_error = 0, -math.inf, ""
    if 0.0 < want < 100.0:
        tracked.session.judge.reached(want, now)


def _failed(tracked: Tracked, now: float, why: str) -> str:
    tracked.failures += 1
    tracked.retry_at = now + phases.backoff(tracked.failures)
    tracked.last_error = why
    log.warning("rollout %s: router: %s", tracked.session.rollout_id, why)
    return f"router: {why}"


def next_state(
    tracked: Tracked, started: State, ending: State | None, data: dict[str, Any]
) -> State:
    """The state after this tick's verdict, acting on the router when the rollout has one."""
    if tracked.routed:
        return act(tracked, started, ending, data)
    return after_verdict(started, data["action"])
