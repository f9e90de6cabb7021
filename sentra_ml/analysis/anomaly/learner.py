"""One online learner per service: scores each interval's features, then learns them."""

from __future__ import annotations

import math
import pickle
import zlib
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass

from sentra_ml.analysis.anomaly.calibration import TailCalibrator
from sentra_ml.analysis.anomaly.tracker import FeatureTracker

_MAGIC = b"sentra-learner/1\n"
COMPONENTS = ("level", "step", "time_of_day", "yesterday", "change")


@dataclass(frozen=True)
class LearnerConfig:
    """Shipped defaults; none is tuned to a single series. `season_alpha` and `refractory` were
    chosen by cross-validation across NAB's categories (benchmarks/nab_cv.py, models/README.md)."""

    alpha: float = 0.01  # level and step memory: ~100 intervals
    season_alpha: float = 0.05  # time-of-day memory: ~20 days
    season_buckets: int = 24
    history: int = 2000  # raw scores that calibrate the p-value
    alarm_rate: float = 1e-3  # target false alarms per interval (flag when p <= this)
    warmup: int = 50  # intervals before any score above 0
    refractory: int = 100  # after an alarm, intervals no more anomalous than its peak within
    # this many intervals score 0: one incident raises one alert, not one per interval
    trees: bool | None = None  # HalfSpaceTrees on the joint features; None: when >= 2 features
    seed: int = 0


@dataclass(frozen=True)
class Detection:
    """A scored interval: `score` = 1 - p-value in [0, 1], flagged when p <= the alarm rate.

    `p_sustained` is the p-value before the refractory period: it stays low for every interval
    of an excursion, where `p_value` is low for its first (peak) interval only.
    """

    score: float
    p_value: float
    flag: bool
    feature: str | None  # the feature (and component) that stood out most
    component: str | None
    p_sustained: float = 1.0


class ServiceLearner:
    """Per-service online anomaly learner; `update` scores a sample before learning it.

    Each numeric feature has a `FeatureTracker`: z-distances of a value from normal (recent
    level, previous value, this hour's usual value, yesterday's value) and an ADWIN change vote.
    A feature's surprise is its second-largest distance (two views agree), the sample's raw score
    the largest over features; it is calibrated into a p-value on the learner's own recent history
    (`TailCalibrator`), and an excursion is scored once (`refractory`). With two or more
    features, river's `HalfSpaceTrees` on min-max scaled features adds a joint score, calibrated
    the same way; the two p-values are combined by a Bonferroni minimum. Checkpoint with
    `to_bytes` / `from_bytes` (pickle: load only bytes you stored yourself).

    >>> learner = ServiceLearner()
    >>> for i in range(500):
    ...     _ = learner.update({"latency": 100.0 + (i * 7) % 11}, ts=60.0 * i)
    >>> learner.update({"latency": 105.0}, ts=30000.0).flag
    False
    >>> spike = learner.update({"latency": 400.0}, ts=30060.0)
    >>> spike.flag, spike.score > 0.999, spike.feature
    (True, True, 'latency')
    """

    def __init__(self, config: LearnerConfig | None = None) -> None:
        self.config = config or LearnerConfig()
        self.trackers: dict[str, FeatureTracker] = {}
        self.calibrator = TailCalibrator(window=self.config.history, min_history=self.config.warmup)
        self.tree_calibrator = TailCalibrator(
            window=self.config.history, min_history=self.config.warmup
        )
        from river import anomaly, preprocessing  # on first use, as in FeatureTracker

        self.scaler = preprocessing.MinMaxScaler()
        self.trees = anomaly.HalfSpaceTrees(seed=self.config.seed)
        # (interval, p-value) of recent intervals, p increasing: a sliding minimum of p-values
        self.recent: deque[tuple[int, float]] = deque()
        self.n = 0

    def _uses_trees(self) -> bool:
        if self.config.trees is None:
            return len(self.trackers) >= 2
        return self.config.trees

    def _tracker(self, name: str) -> FeatureTracker:
        tracker = self.trackers.get(name)
        if tracker is None:
            c = self.config
            tracker = FeatureTracker(c.alpha, c.season_alpha, c.season_buckets)
            self.trackers[name] = tracker
        return tracker

    def _raw(
        self, x: Mapping[str, float], ts: float | None
    ) -> tuple[float, str | None, str | None]:
        best, feature, component = 0.0, None, None
        for name, value in x.items():
            if not math.isfinite(value):
                continue
            tracker = self.trackers.get(name)
            if tracker is None:
                continue
            # a value is surprising when at least two views of normal agree: one view alone is
            # often just wrong (a daily step looks like a jump to `step`, not to `yesterday`)
            first, second = sorted(
                zip(tracker.surprise(value, ts), COMPONENTS, strict=True), reverse=True
            )[:2]
            if second[0] > best:
                best, feature, component = second[0], name, f"{first[1]}+{second[1]}"
        return best, feature, component

    def _evaluate(
        self, x: Mapping[str, float], ts: float | None
    ) -> tuple[Detection, float, float | None, dict[str, float], float]:
        raw, feature, component = self._raw(x, ts)
        p = self.calibrator.p_value(raw)
        tree_raw: float | None = None
        finite = {k: float(v) for k, v in x.items() if math.isfinite(v)}
        if self._uses_trees() and finite:
            tree_raw = self.trees.score_one(self.scaler.transform_one(finite))
            p_tree = self.tree_calibrator.p_value(tree_raw)
            if p_tree < p:
                feature, component = None, "joint"
            p = min(1.0, 2.0 * min(p, p_tree))
        unsuppressed = 1.0 if self.n < self.config.warmup else p
        if self.n < self.config.warmup or self._in_excursion(p):
            p = 1.0  # warming up, or the tail of an excursion whose peak scored higher
        flag = p <= self.config.alarm_rate
        if unsuppressed >= 1.0:
            feature = component = None
        detection = Detection(1.0 - p, p, flag, feature, component, unsuppressed)
        return detection, raw, tree_raw, finite, unsuppressed

    def _in_excursion(self, p: float) -> bool:
        """Within `refractory` intervals of an alarm (p <= alarm rate) with a smaller p-value?"""
        return bool(self.recent) and self.recent[0][1] <= min(p, self.config.alarm_rate)

    def score_one(self, x: Mapping[str, float], ts: float | None = None) -> float:
        """Anomaly score in [0, 1] of a sample (nothing is learned)."""
        return self._evaluate(x, ts)[0].score

    def detect(self, x: Mapping[str, float], ts: float | None = None) -> Detection:
        """The full scoring of a sample that must not become normal (nothing is learned)."""
        return self._evaluate(x, ts)[0]

    def learn_one(self, x: Mapping[str, float], ts: float | None = None) -> None:
        """Learn a sample as normal behaviour."""
        _, raw, tree_raw, finite, p = self._evaluate(x, ts)
        self._learn(finite, ts, raw, tree_raw, p)

    def update(self, x: Mapping[str, float], ts: float | None = None) -> Detection:
        """Score a sample, then learn it: what the live service does each interval."""
        detection, raw, tree_raw, finite, p = self._evaluate(x, ts)
        self._learn(finite, ts, raw, tree_raw, p)
        return detection

    def _learn(
        self,
        finite: dict[str, float],
        ts: float | None,
        raw: float,
        tree_raw: float | None,
        p: float,
    ) -> None:
        for name, value in finite.items():
            self._tracker(name).learn_one(value, ts)
        self.calibrator.learn_one(raw)
        while self.recent and self.recent[-1][1] >= p:
            self.recent.pop()
        self.recent.append((self.n, p))
        while self.recent[0][0] <= self.n - self.config.refractory:
            self.recent.popleft()
        if tree_raw is not None:
            self.tree_calibrator.learn_one(tree_raw)
        if self._uses_trees() and finite:
            self.scaler.learn_one(finite)
            self.trees.learn_one(self.scaler.transform_one(finite))
        self.n += 1

    def to_bytes(self) -> bytes:
        """The whole state: a version header, then zlib-compressed pickle (~3x smaller).

        Pickle runs code when loaded: store these bytes yourself, never load foreign ones.
        """
        return _MAGIC + zlib.compress(pickle.dumps(self, protocol=pickle.HIGHEST_PROTOCOL), 6)

    @classmethod
    def from_bytes(cls, data: bytes) -> ServiceLearner:
        """A learner from `to_bytes` output; ValueError if the bytes are not a checkpoint."""
        if not data.startswith(_MAGIC):
            raise ValueError("not a Sentra learner checkpoint (bad header)")
        try:
            learner = pickle.loads(zlib.decompress(data[len(_MAGIC) :]))
        except (zlib.error, pickle.UnpicklingError, EOFError) as e:
            raise ValueError(f"corrupt Sentra learner checkpoint ({e})") from None
        if not isinstance(learner, cls):
            raise ValueError("checkpoint does not hold a ServiceLearner")
        return learner
