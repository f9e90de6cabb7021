"""The service learner of each rollout: restored from the service's checkpoint as the rollout
began, saved every SAVE_SECONDS of judging and at the end.

The rollout keeps the checkpoint it started from on the bus, so a replay after a takeover starts
from the same learner and learns nothing twice.
"""

from __future__ import annotations

import base64
import math

from sentra_ml.analysis.anomaly import ServiceLearner
from sentra_ml.analysis.judge import RolloutJudge
from sentra_ml.analysis.judge.normal import service_learner
from sentra_ml.store import audit, keys
from sentra_ml.store.bus import KeyValue
from sentra_ml.store.learners import LearnerStore, restored, saved_learner
from sentra_ml.store.model_loader import PublishedLearnerStore

SAVE_SECONDS = 60.0  # a crash loses at most this much of a service's learning


class Checkpoints:
    """Learner checkpoints of the rollouts one controller judges."""

    def __init__(self, bus: KeyValue, store: LearnerStore | None) -> None:
        self.bus = bus
        self.store = store

    def start(self, rollout_id: str, service: str) -> ServiceLearner | None:
        """The service's learner as it was when this rollout started (None without a store)."""
        if self.store is None:
            return None
        key = keys.learner_start(rollout_id)
        raw = self.bus.get(key)
        if raw is not None:
            learner = restored(service, base64.b64decode(raw))
        else:
            learner = saved_learner(self.store, service)
        if learner is None:
            learner = service_learner()
        if raw is None:
            self.bus.put(key, base64.b64encode(learner.to_bytes()).decode(), keys.LOG_TTL)
        return learner

    def model(self, service: str) -> str:
        """What judges the service: Sentra's judge, and the registered model its learner
        descends from (`sentra-<service>/N`), if one was published."""
        adopted = (
            self.store.adopted(service) if isinstance(self.store, PublishedLearnerStore) else None
        )
        if adopted is None:
            return audit.JUDGE_VERSION
        return f"{audit.JUDGE_VERSION}, learner {adopted}"

    def save(self, service: str, judge: RolloutJudge, saved_at: float, now: float) -> float:
        """Save when due (or at the end); returns when it was last saved (inf once final)."""
        normal = judge.normal
        if self.store is None or normal is None or saved_at == math.inf:
            return saved_at
        over = judge.final is not None
        if over or now - saved_at >= SAVE_SECONDS:
            self.store.save(service, normal.learner.to_bytes())
            return math.inf if over else now
        return saved_at
