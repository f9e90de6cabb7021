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


def _holding(verdict: dict[str, Any] | None) -> bool:
    """The judge keeps the weight on the evidence. A verdict without the field (an older
    replica's) counts as holding: a gate fails closed."""
    return verdict is None or bool(verdict.get("hold", True))


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
        if state is not State.RUNNING:
            return False, f"rollout is {state}"
        if action is Action.PROMOTE or (action is Action.CONTINUE and not _holding(verdict)):
            return True, "judge allows more traffic"
        return False, _why_not(action, verdict)
    if state is State.PROMOTED or action is Action.PROMOTE:
        return True, "the judge promotes"
    if action is Action.CONTINUE and _all_safe(verdict) and not _holding(verdict):
        return True, "every metric shown within tolerance"
    return False, "not yet shown safe" if action is Action.CONTINUE else _why_not(action, verdict)


def _why_not(action: Action | None, verdict: dict[str, Any] | None) -> str:
    """The judge's own last reason, which says why it holds or pauses."""
    reasons = [] if verdict is None else verdict.get("reasons") or []
    last = str(reasons[-1]) if reasons else ""
    return f"judge says {action or 'nothing yet'}" + (f": {last}" if last else "")


def argo_verdict(
    state: State, verdict: dict[str, Any] | None, *, now: float, stale_after: float
) -> str:
    """pass | fail | inconclusive (Argo pauses the rollout on inconclusive). A hold passes:
    nothing regressed; `argo_more_traffic` says whether a step up is allowed."""
    if _stale(state, verdict, now, stale_after):
        return "inconclusive"
    action = _action(verdict)
    if state in (State.ROLLED_BACK, State.ABORTED) or action is Action.ROLLBACK:
        return "fail"
    if state is State.PROMOTED or action is Action.PROMOTE:
        return "pass"
    if action is Action.CONTINUE and verdict is not None and verdict.get("score") is not None:
        return "pass"
    return "inconclusive"  # a pause, or no data yet: nothing to pass on


def argo_more_traffic(
    state: State, verdict: dict[str, Any] | None, *, now: float, stale_after: float
) -> bool:
    """Whether the judge allows a step up now: what Flagger's `confirm-traffic-increase` says."""
    allowed, _ = flagger_gate(
        Hook.CONFIRM_TRAFFIC_INCREASE, state, verdict, now=now, stale_after=stale_after
    )
    return allowed
