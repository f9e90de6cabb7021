"""The integration gates (pure): a verdict older than the rollout's stale period never passes."""

from __future__ import annotations

from typing import Any

import pytest

from sentra_ml.api.gates import (
    Hook,
    argo_more_traffic,
    argo_verdict,
    flagger_gate,
    verdict_age,
)
from sentra_ml.store.states import State

STALE = 15.0


def _verdict(action: str, ts: float = 1000.0) -> dict[str, Any]:
    return {
        "ts": ts,
        "action": action,
        "hold": False,
        "score": 100.0,
        "evidence": [{"metric": "errors", "status": "safe"}],
    }


def test_the_age_of_a_verdict() -> None:
    assert verdict_age(None, 2000.0) is None
    assert verdict_age(_verdict("continue"), 1012.5) == 12.5
    assert verdict_age(_verdict("continue"), 990.0) == 0.0  # another replica's clock ahead


@pytest.mark.parametrize("action", ["continue", "promote"])
def test_argo_passes_only_a_fresh_verdict(action: str) -> None:
    verdict = _verdict(action)
    assert argo_verdict(State.RUNNING, verdict, now=1000.0 + STALE, stale_after=STALE) == "pass"
    old = argo_verdict(State.RUNNING, verdict, now=1001.0 + STALE, stale_after=STALE)
    assert old == "inconclusive"


def test_argo_answers_a_finished_rollout_from_its_state_at_any_age() -> None:
    late = {"now": 1e6, "stale_after": STALE}
    assert argo_verdict(State.PROMOTED, _verdict("promote"), **late) == "pass"
    assert argo_verdict(State.ROLLED_BACK, _verdict("rollback"), **late) == "fail"
    assert argo_verdict(State.RUNNING, _verdict("rollback"), **late) == "inconclusive"


@pytest.mark.parametrize("hook", list(Hook))
def test_flagger_allows_nothing_on_a_stale_verdict(hook: Hook) -> None:
    for action in ("continue", "promote", "rollback"):
        allowed, why = flagger_gate(
            hook, State.RUNNING, _verdict(action), now=1100.0, stale_after=STALE
        )
        assert not allowed and "100 s old" in why  # for `rollback`: no rollback claimed


def test_flagger_on_a_fresh_verdict_and_on_a_finished_rollout() -> None:
    fresh = {"now": 1005.0, "stale_after": STALE}
    assert flagger_gate(
        Hook.CONFIRM_TRAFFIC_INCREASE, State.RUNNING, _verdict("continue"), **fresh
    )[0]
    assert flagger_gate(Hook.ROLLBACK, State.RUNNING, _verdict("rollback"), **fresh)[0]
    late = {"now": 1e6, "stale_after": STALE}
    assert flagger_gate(Hook.ROLLBACK, State.ROLLED_BACK, _verdict("rollback"), **late)[0]
    assert flagger_gate(Hook.CONFIRM_PROMOTION, State.PROMOTED, _verdict("promote"), **late)[0]


# Every kind of verdict the judge gives, as the wire carries it, and what each integration
# answers: Flagger's hooks (allowed?) and Argo's result (verdict, more_traffic). A hold refuses
# more traffic and promotion; only a rollback (or a finished rollback) lets Flagger roll back.
def _judged(action: str, *, hold: bool, score: float | None, status: str) -> dict[str, Any]:
    return {
        "ts": 1000.0,
        "action": action,
        "hold": hold,
        "score": score,
        "reasons": ["the judge's last reason"],
        "evidence": [{"metric": "errors", "status": status}],
    }


VERDICTS = {
    "step up": _judged("continue", hold=False, score=100.0, status="inconclusive"),
    "pacing (step younger than min_step_seconds)": _judged(
        "continue", hold=False, score=100.0, status="inconclusive"
    ),
    "continue, every metric safe": _judged("continue", hold=False, score=100.0, status="safe"),
    "hold: exposure not bounded": _judged("continue", hold=True, score=100.0, status="safe"),
    "hold: risk": _judged("continue", hold=True, score=100.0, status="inconclusive"),
    "hold: non-critical regression": _judged(
        "continue", hold=True, score=50.0, status="regression"
    ),
    "waiting for data": _judged("continue", hold=True, score=None, status="no_data"),
    "promote": _judged("promote", hold=False, score=100.0, status="safe"),
    "pause": _judged("pause", hold=True, score=100.0, status="stale"),
    "rollback": _judged("rollback", hold=True, score=0.0, status="regression"),
}
HOOKS = [Hook.PRE_ROLLOUT, Hook.ROLLOUT, Hook.CONFIRM_TRAFFIC_INCREASE, Hook.CONFIRM_PROMOTION]
# verdict: (pre-rollout, rollout, confirm-traffic-increase, confirm-promotion, rollback),
#          Argo (verdict, more_traffic)
TABLE: dict[str, tuple[tuple[bool, bool, bool, bool, bool], tuple[str, bool]]] = {
    "step up": ((True, True, True, False, False), ("pass", True)),
    "pacing (step younger than min_step_seconds)": (
        (True, True, True, False, False),
        ("pass", True),
    ),
    "continue, every metric safe": ((True, True, True, True, False), ("pass", True)),
    "hold: exposure not bounded": ((True, True, False, False, False), ("pass", False)),
    "hold: risk": ((True, True, False, False, False), ("pass", False)),
    "hold: non-critical regression": ((True, True, False, False, False), ("pass", False)),
    "waiting for data": ((True, True, False, False, False), ("inconclusive", False)),
    "promote": ((True, True, True, True, False), ("pass", True)),
    "pause": ((True, True, False, False, False), ("inconclusive", False)),
    "rollback": ((False, False, False, False, True), ("fail", False)),
}


@pytest.mark.parametrize("kind", list(VERDICTS))
def test_every_integration_answer_for_every_kind_of_verdict(kind: str) -> None:
    verdict, fresh = VERDICTS[kind], {"now": 1005.0, "stale_after": STALE}
    flagger, (argo, more) = TABLE[kind]
    hooks = [*HOOKS, Hook.ROLLBACK]
    got = tuple(flagger_gate(h, State.RUNNING, verdict, **fresh)[0] for h in hooks)
    assert got == flagger, dict(zip(hooks, got, strict=True))
    assert argo_verdict(State.RUNNING, verdict, **fresh) == argo
    assert argo_more_traffic(State.RUNNING, verdict, **fresh) is more


def test_a_refused_traffic_increase_gives_the_judges_reason() -> None:
    verdict = VERDICTS["hold: exposure not bounded"]
    allowed, why = flagger_gate(
        Hook.CONFIRM_TRAFFIC_INCREASE, State.RUNNING, verdict, now=1005.0, stale_after=STALE
    )
    assert not allowed and why == "judge says continue: the judge's last reason"


def test_a_verdict_without_the_hold_field_refuses_more_traffic() -> None:
    verdict = {"ts": 1000.0, "action": "continue", "score": 100.0, "evidence": []}
    fresh = {"now": 1005.0, "stale_after": STALE}
    assert not flagger_gate(Hook.CONFIRM_TRAFFIC_INCREASE, State.RUNNING, verdict, **fresh)[0]


def test_a_paused_rollout_gets_no_more_traffic_whatever_the_verdict() -> None:
    fresh = {"now": 1005.0, "stale_after": STALE}
    for verdict in VERDICTS.values():
        assert not flagger_gate(Hook.CONFIRM_TRAFFIC_INCREASE, State.PAUSED, verdict, **fresh)[0]
        assert not argo_more_traffic(State.PAUSED, verdict, **fresh)
