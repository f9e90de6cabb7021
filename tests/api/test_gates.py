"""The integration gates (pure): a verdict older than the rollout's stale period never passes."""

from __future__ import annotations

from typing import Any

import pytest

from sentra_ml.api.gates import Hook, argo_verdict, flagger_gate, verdict_age
from sentra_ml.store.states import State

STALE = 15.0


def _verdict(action: str, ts: float = 1000.0) -> dict[str, Any]:
    return {"ts": ts, "action": action, "evidence": [{"metric": "errors", "status": "safe"}]}


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
