"""A pulled rollout is ticked just after each sample of its source completes; a pushed one an
interval after its last tick."""

from __future__ import annotations

import pytest
from sentra_controller.scheduler import EARLY, PULL_DELAY, _next_due

from sentra_ml.store.schema import Rollout


def rollout(source: dict[str, object] | None, interval: float = 2.0) -> Rollout:
    return Rollout(spec={"interval_seconds": interval}, source=source)


@pytest.mark.parametrize("now", [100.0, 100.149, 100.15, 100.16, 101.0, 101.99, 102.1])
def test_a_pulled_rollout_is_due_at_the_next_sample_plus_the_pull_delay(now: float) -> None:
    due = _next_due(rollout({"kind": "prometheus"}), now, 2.0)
    assert (due - PULL_DELAY) % 2.0 == pytest.approx(0.0, abs=1e-9)
    assert now + EARLY < due <= now + 2.0 + EARLY  # never twice for one sample, never skipped


def test_a_tick_run_early_is_not_due_again_for_the_same_sample() -> None:
    row = rollout({"kind": "prometheus"})
    first = _next_due(row, 100.0, 2.0)  # 100.15
    ran_early = first - EARLY * 0.9  # the scheduler runs ticks this close to their due time
    assert _next_due(row, ran_early, 2.0) == pytest.approx(first + 2.0)


def test_a_pushed_rollout_is_due_one_interval_on() -> None:
    assert _next_due(rollout(None, 3.0), 100.07, 2.0) == pytest.approx(103.07)
