"""One contract for every anomaly detector (river's shape: `score_one`, `learn_one`, `update`),
and for its checkpoint: scoring learns nothing, and a restored detector goes on exactly."""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from typing import Protocol

import pytest

from sentra_ml.analysis.anomaly import Detection, ServiceLearner

MINUTE = 60.0


class Detector(Protocol):
    def score_one(self, x: dict[str, float], ts: float | None = None) -> float: ...
    def update(self, x: dict[str, float], ts: float | None = None) -> Detection: ...
    def to_bytes(self) -> bytes: ...


DETECTORS: dict[str, tuple[Callable[[], Detector], Callable[[bytes], Detector]]] = {
    "service_learner": (ServiceLearner, ServiceLearner.from_bytes),
}


def noisy(rng: random.Random, i: int) -> dict[str, float]:
    """A service with a daily cycle in latency and noise in errors."""
    daily = math.sin(2 * math.pi * (i * MINUTE % 86400) / 86400)
    return {
        "latency.p99.log": 5.0 + 0.3 * daily + rng.gauss(0, 0.05),
        "errors.ratio": 0.01 + rng.gauss(0, 0.001),
    }


def stream(detector: Detector, n: int, seed: int = 1, start: int = 0) -> list[Detection]:
    rng = random.Random(seed)
    return [detector.update(noisy(rng, i), i * MINUTE) for i in range(start, start + n)]


@pytest.mark.parametrize("name", DETECTORS)
def test_scoring_learns_nothing_and_update_scores_before_learning(name: str) -> None:
    detector = DETECTORS[name][0]()
    stream(detector, 600)
    x = {"latency.p99.log": 9.0, "errors.ratio": 0.2}
    before = detector.to_bytes()
    score = detector.score_one(x, 600 * MINUTE)
    assert detector.to_bytes() == before
    assert detector.update(x, 600 * MINUTE).score == score


@pytest.mark.parametrize("name", DETECTORS)
def test_checkpoint_round_trip_continues_exactly(name: str) -> None:
    make, restore = DETECTORS[name]
    detector = make()
    stream(detector, 1500)
    restored = restore(detector.to_bytes())
    a = stream(detector, 300, seed=5, start=1500)
    b = stream(restored, 300, seed=5, start=1500)
    assert a == b
