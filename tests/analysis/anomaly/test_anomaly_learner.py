"""The per-service learner: calibrated scores, detections, re-learning and checkpoints."""

from __future__ import annotations

import math
import random

import pytest

from sentra_ml.analysis.anomaly import Detection, LearnerConfig, ServiceLearner

MINUTE = 60.0


def noisy(rng: random.Random, i: int) -> dict[str, float]:
    """A service with a daily cycle in latency and noise in errors."""
    daily = math.sin(2 * math.pi * (i * MINUTE % 86400) / 86400)
    return {
        "latency.p99.log": 5.0 + 0.3 * daily + rng.gauss(0, 0.05),
        "errors.ratio": 0.01 + rng.gauss(0, 0.001),
    }


def stream(learner: ServiceLearner, n: int, seed: int = 1, start: int = 0) -> list[Detection]:
    rng = random.Random(seed)
    return [learner.update(noisy(rng, i), i * MINUTE) for i in range(start, start + n)]


def test_scores_are_probabilities_and_false_alarms_stay_near_the_target_rate() -> None:
    learner = ServiceLearner(LearnerConfig(alarm_rate=1e-3))
    detections = stream(learner, 10_000)
    assert all(0.0 <= d.score <= 1.0 for d in detections)
    assert all(d.score == 1.0 - d.p_value for d in detections)
    flagged = sum(d.flag for d in detections[1000:])
    assert flagged <= 9 * 3  # 1e-3 per interval on 9,000 intervals, with room for chance


def test_nothing_is_flagged_while_warming_up() -> None:
    learner = ServiceLearner(LearnerConfig(warmup=50))
    for i in range(50):
        assert learner.update({"x": float(i % 3) * 1000}, i * MINUTE).score == 0.0


def test_a_spike_is_flagged_and_attributed_to_its_feature() -> None:
    learner = ServiceLearner()
    stream(learner, 3000)
    spike = learner.update({"latency.p99.log": 7.5, "errors.ratio": 0.01}, 3000 * MINUTE)
    assert spike.flag and spike.score > 0.999
    assert spike.feature in {"latency.p99.log", None}  # None: the joint trees stood out most
    assert spike.component is not None


def test_an_error_ratio_jump_is_flagged_then_relearned_as_the_new_normal() -> None:
    learner = ServiceLearner()
    stream(learner, 3000)
    rng = random.Random(7)
    after = []
    for i in range(3000, 6000):
        x = noisy(rng, i)
        x["errors.ratio"] += 0.02
        after.append(learner.update(x, i * MINUTE))
    assert any(d.flag for d in after[:5])
    assert sum(d.flag for d in after[1500:]) <= 3


def test_one_incident_raises_one_alert_not_one_per_interval() -> None:
    learner = ServiceLearner(LearnerConfig(refractory=50))
    stream(learner, 3000)
    rng = random.Random(3)
    flags = []
    for i in range(3000, 3030):
        x = noisy(rng, i)
        x["latency.p99.log"] += 3.0 - 0.05 * (i - 3000)  # a fading incident
        flags.append(learner.update(x, i * MINUTE).flag)
    assert flags[0] and sum(flags) <= 2


def test_missing_and_new_features_are_handled() -> None:
    learner = ServiceLearner()
    stream(learner, 300)
    d = learner.update({"latency.p99.log": math.nan, "cpu": 0.5}, 300 * MINUTE)
    assert 0.0 <= d.score <= 1.0
    assert "cpu" in learner.trackers


def test_from_bytes_refuses_other_or_truncated_bytes() -> None:
    with pytest.raises(ValueError, match="checkpoint"):
        ServiceLearner.from_bytes(b"not a checkpoint")
    learner = ServiceLearner()
    stream(learner, 100)
    with pytest.raises(ValueError, match="corrupt"):
        ServiceLearner.from_bytes(learner.to_bytes()[:-20])


def test_checkpoint_stays_small() -> None:
    learner = ServiceLearner()
    stream(learner, 5000)
    # two features at 1-minute intervals: trees, a day of values per feature, two calibrators
    assert len(learner.to_bytes()) < 200_000


def test_half_space_trees_catch_a_broken_relation_between_features() -> None:
    """CPU follows traffic; then high traffic with low CPU, each value inside its usual range."""

    def broken(trees: bool, seed: int) -> Detection:
        rng = random.Random(seed)
        learner = ServiceLearner(LearnerConfig(trees=trees))
        for i in range(3000):
            t = rng.random()
            learner.update({"traffic": t, "cpu": t + rng.gauss(0, 0.02)}, i * MINUTE)
        return learner.update({"traffic": 0.95, "cpu": 0.05}, 3000 * MINUTE)

    with_trees = [broken(True, seed) for seed in range(4)]
    assert sum(d.flag for d in with_trees) >= 3
    assert all(d.component == "joint" for d in with_trees if d.flag)
    assert not broken(False, 0).flag  # per-feature views alone cannot see it
