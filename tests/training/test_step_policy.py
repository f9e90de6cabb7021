"""Learning a service's step policy from its past rollouts in the audit database."""

from __future__ import annotations

from pathlib import Path

import pytest
from audit_history import write_history
from sentra_training.rollout_history import PastRollout, past_rollouts
from sentra_training.series import InputError
from sentra_training.step_policy import Outcome, PolicyOptions, candidates, learn_policy
from sentra_training.traffic_profile import traffic_profile

from sentra_ml.store.db import make_engine, session_factory


def read(url: str, service: str) -> list[PastRollout]:
    engine = make_engine(url)
    with session_factory(engine)() as session:
        past = past_rollouts(session=session, service=service)
    engine.dispose()
    return past


def test_the_profile_reads_traffic_per_weight_noise_and_pace(tmp_path: Path) -> None:
    url = write_history(
        tmp_path / "a.db", "checkout", promoted=4, rolled_back=1, noisy_latency=True
    )
    write_history(tmp_path / "a.db", "other", promoted=3)  # another service's rollouts
    past = read(url, "checkout")
    assert [r.promoted for r in past] == [True] * 4 + [False]  # oldest first
    profile = traffic_profile(past)
    assert profile.rollouts == 5 and profile.promoted == 4
    assert profile.total_rps == pytest.approx(400.0)
    assert profile.canary_rps == pytest.approx({1.0: 4.0, 5.0: 20.0, 20.0: 80.0, 50.0: 200.0})
    assert profile.error_ratio == pytest.approx(0.01)
    assert profile.latency == pytest.approx(250.0) and profile.quantile == 0.99
    assert profile.noisy_metrics() == ["latency_ms"]  # named in every healthy rollout
    assert profile.promote_seconds == pytest.approx(200.0)


def test_too_few_healthy_rollouts_is_an_error_naming_them(tmp_path: Path) -> None:
    url = write_history(tmp_path / "a.db", "checkout", promoted=2, rolled_back=3)
    with pytest.raises(InputError, match=r"2 promoted rollouts.*at least 3"):
        learn_policy(read(url, "checkout"), PolicyOptions(runs=1))


def test_candidates_start_higher_or_hold_shorter_on_the_same_schedule() -> None:
    from sentra_ml.analysis.types.specs import StepPolicy

    tried = candidates(StepPolicy())
    assert tried[0] == StepPolicy()  # today's policy first
    assert {(p.steps[0], p.min_step_seconds) for p in tried} == {
        (w, h) for w in (1.0, 2.0, 5.0) for h in (10.0, 5.0)
    }
    assert all(p.steps[-1] == 100.0 and p.max_step_seconds == 300.0 for p in tried)


def test_a_candidate_is_admissible_only_at_no_more_risk() -> None:
    kinds = {"errors": (5, 15.0), "latency": (5, 5.0)}
    today = Outcome(160.0, false_rollbacks=0, caught=10, faulty=10, excess_failed=20.0,
                    by_fault=kinds)  # fmt: skip
    assert Outcome(100.0, 0, 10, 10, 20.0, kinds).admissible_against(today)
    shifted = {"errors": (5, 10.0), "latency": (5, 9.0)}  # fewer failed in all: admissible
    assert Outcome(100.0, 0, 10, 10, 19.0, shifted).admissible_against(today)
    assert not Outcome(100.0, 0, 10, 10, 20.5, kinds).admissible_against(today)  # more failed
    assert not Outcome(100.0, 0, 9, 10, 5.0, kinds).admissible_against(today)  # one missed
    swapped = {"errors": (6, 5.0), "latency": (4, 0.0)}  # a latency fault missed
    assert not Outcome(100.0, 0, 10, 10, 5.0, swapped).admissible_against(today)
    assert not Outcome(100.0, 1, 10, 10, 5.0, kinds).admissible_against(today)  # false rollback


def test_the_learned_policy_is_deterministic_and_no_riskier(tmp_path: Path) -> None:
    url = write_history(tmp_path / "a.db", "checkout", promoted=3, total_rps=2000.0)
    past = read(url, "checkout")
    first, again = (learn_policy(past, PolicyOptions(runs=1, seed=3)) for _ in range(2))
    assert first.fields == again.fields and first.learned == again.learned
    assert first.learned.admissible_against(first.today)
    assert first.learned.promote_seconds <= first.today.promote_seconds
    card = first.card()
    assert card["steps"][-1] == 100.0 and card["learned_from"]["total_rps"] == 2000.0
    assert card["simulated"]["candidates"] == 6
    assert card["simulated"]["confirmation_runs_per_fault"] == 3  # fresh seeds confirm a change
