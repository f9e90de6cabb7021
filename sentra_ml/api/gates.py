"""How a streaming verdict answers the questions of other rollout controllers (pure).

A verdict older than the rollout's stale period (`stale_after_seconds`) says nothing about now:
the judge may have stopped. It never lets a canary on, and never claims a rollback; a finished
rollout is answered from its state, which no longer changes.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from sentra_ml.analysis.types.labels import Action
from sentra_ml.store.states import TERMINAL, State


class Hook(StrEnum):
    """Flagger's webhook types that Sentra answers."""

    PRE_ROLLOUT = "pre-rollout"
    ROLLOUT = "rollout"
    CONFIRM_TRAFFIC_INCREASE = "confirm-traffic-increase"
    CONFIRM_PROMOTION = "confirm-promotion"
    ROLLBACK = "rollback"


def _action(verdict: dict[str, Any] | None) -> Action | None:
    return None if verdict is None else Action(verdict["action"])


def _all_safe(verdict: dict[str, Any] | None) -> bool:
    evidence = [] if verdict is None else verdict.get("evidence") or []
    return bool(evidence) and all(e.get("status") == "safe" for e in evidence)


def verdict_age(verdict: dict[str, Any] | None, now: float) -> float | None:
    """Seconds since the judge made `verdict` (its `ts`); None without one. Never negative:
    another replica's clock may be a little ahead."""
    return None if verdict is None else max(0.0, now - float(verdict["ts"]))


def _stale(state: State, verdict: dict[str, Any] | None, now: float, stale_after: float) -> str:
    """Why the verdict is too old to act on, or '' (a finished rollout's never is)."""
    age = verdict_age(verdict, now)
    if state in TERMINAL or age is None or age <= stale_after:
        return ""
    return f"the verdict is {age:.0f} s old (stale after {stale_after:g} s): the judge is behind"


def flagger_gate(
    hook: Hook,
    state: State,
    verdict: dict[str, Any] | None,
    *,
    now: float,
    stale_after: float,
) -> tuple[bool, str]:
    """(allowed, why). For `rollback`, allowed means "roll back now"."""
    stale = _stale(state, verdict, now, stale_after)
    if stale:
        return False, stale
    action = _action(verdict)
    failed = state in (State.ROLLED_BACK, State.ABORTED) or action is Action.ROLLBACK
    if hook is Hook.ROLLBACK:
        return failed, "the canary regressed or was aborted" if failed else "no reason to roll back"
    if failed:
        return (
            False,
            f"rollout is {state}" if action is not Action.ROLLBACK else "the judge rolled back",
        )
    if hook is Hook.PRE_ROLLOUT:
        return state is State.RUNNING, f"rollout is {state}"
    if hook is Hook.ROLLOUT:
        return True, "no regression found" if verdict else "no verdict yet"
    if hook is Hook.CONFIRM_TRAFFIC_INCREASE:
        ok = state is State.RUNNING and action in (Action.CONTINUE, Action.PROMOTE)
        return ok, "judge allows more traffic" if ok else f"judge says {action or 'nothing yet'}"
    ok = (
        state is State.PROMOTED
        or action is Action.PROMOTE
        or (action is Action.CONTINUE and _all_safe(verdict))
    )
    return ok, "every metric shown within tolerance" if ok else "not yet shown safe"


def argo_verdict(
    state: State, verdict: dict[str, Any] | None, *, now: float, stale_after: float
) -> str:
    """pass | fail | inconclusive (Argo pauses the rollout on inconclusive)."""
    if _stale(state, verdict, now, stale_after):
        return "inconclusive"
    action = _action(verdict)
    if state in (State.ROLLED_BACK, State.ABORTED) or action is Action.ROLLBACK:
        return "fail"
    if state is State.PROMOTED or action in (Action.PROMOTE, Action.CONTINUE):
        return "pass"
    return "inconclusive"
