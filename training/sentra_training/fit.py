"""Fit a service's model on its healthy history: the learner's warm state, with the flag
threshold (`alarm_rate`) calibrated so that the history itself raises the target share of false
alarms.

Two passes over the history, both deterministic for a seed: the first, with the shipped defaults,
collects each interval's p-value before the one-alert-per-incident rule (`p_sustained`) on the
calibration part (the first `1 - holdout` of the scored intervals); the calibrated `alarm_rate`
lets at most the target share of them through. The second pass streams the whole history with
that rate: its final state is the model, and its flags measure the false-alarm rate on the
calibration part and on the held-out tail (intervals the threshold never saw).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np

from sentra_ml.analysis.anomaly import LearnerConfig, ServiceLearner
from sentra_ml.store.model_bundle import ServiceModel
from sentra_training.series import FloatArray, InputError, Progress, Series, live


@dataclass(frozen=True)
class TrainingOptions:
    """What `sentra train` fits with; `target_false_alarm_rate` is per interval."""

    target_false_alarm_rate: float = 1e-3
    holdout: float = 0.2  # share of scored intervals kept out of the calibration
    seed: int = 0

    def check(self) -> None:
        if not 0 < self.target_false_alarm_rate < 0.5:
            raise InputError("--target-false-alarm-rate: must be in (0, 0.5)")
        if not 0 <= self.holdout < 0.9:
            raise InputError("--holdout: must be in [0, 0.9)")


@dataclass(frozen=True)
class TrainedModel:
    """The fitted model, its metrics and the p-values that calibrated it (for plots)."""

    model: ServiceModel
    metrics: dict[str, float]
    params: dict[str, Any]
    times: FloatArray
    p_values: FloatArray  # second pass, before the one-alert rule (1.0 while warming up)
    flags: np.ndarray
    split: int  # index of the first held-out interval


def _stream(
    series: Series, config: LearnerConfig, progress: Progress | None
) -> tuple[ServiceLearner, FloatArray, np.ndarray]:
    learner = ServiceLearner(config)
    n = len(series)
    p = np.ones(n, dtype=np.float64)
    flags = np.zeros(n, dtype=bool)
    for i, detection in enumerate(live(series, learner, progress)):
        p[i], flags[i] = detection.p_sustained, detection.flag
    return learner, p, flags


def calibrated_rate(p_values: FloatArray, target: float) -> float:
    """The largest flag threshold under which at most `target` of `p_values` fall (strictly
    between two observed p-values, so that ties cannot push the share over).

    >>> calibrated_rate(np.array([0.5, 0.001, 0.2, 0.01, 0.3, 0.4, 0.6, 0.7, 0.8, 0.9]), 0.1)
    0.0055
    """
    ordered = np.sort(p_values)
    k = int(np.floor(target * len(ordered) + 1e-9))  # intervals allowed to flag
    if k == 0:
        return float(ordered[0]) / 2
    if k >= len(ordered):
        return float(ordered[-1])
    return float((ordered[k - 1] + ordered[k]) / 2)


def fit_service_model(
    series: Series,
    service: str,
    options: TrainingOptions,
    *,
    source: str,
    progress: Progress | None = None,
) -> TrainedModel:
    """Fit `service`'s model on `series` (healthy history); InputError if it is too short."""
    options.check()
    # the joint trees stay off, as in the judge's own service learner (`service_learner`)
    base = LearnerConfig(trees=False, seed=options.seed)
    scored = len(series) - base.warmup
    minimum = max(200, int(np.ceil(5 / options.target_false_alarm_rate)))
    if scored < minimum:
        raise InputError(
            f"{source}: {len(series)} intervals; calibrating a false-alarm rate of "
            f"{options.target_false_alarm_rate:g} needs at least {minimum + base.warmup}"
        )
    split = base.warmup + round(scored * (1 - options.holdout))
    _, first_p, _ = _stream(series, base, progress)
    rate = calibrated_rate(first_p[base.warmup : split], options.target_false_alarm_rate)
    config = dataclasses.replace(base, alarm_rate=rate)
    learner, p, flags = _stream(series, config, progress)
    calibration, held_out = flags[base.warmup : split], flags[split:]
    metrics = {
        "alarm_rate": rate,
        "false_alarm_rate_calibration": float(calibration.mean()),
        "false_alarms_calibration": float(calibration.sum()),
        "false_alarm_rate_holdout": float(held_out.mean()) if len(held_out) else float("nan"),
        "false_alarms_holdout": float(held_out.sum()),
        "intervals": float(len(series)),
        "features": float(len(series.columns)),
    }
    params: dict[str, Any] = {
        "service": service,
        "source": source,
        "seed": options.seed,
        "target_false_alarm_rate": options.target_false_alarm_rate,
        "holdout": options.holdout,
        **{f"learner.{k}": v for k, v in dataclasses.asdict(config).items()},
    }
    card = {
        "config": dataclasses.asdict(config),
        "features": list(series.columns),
        "data": {
            "source": source,
            "intervals": len(series),
            "start": _iso(float(series.times[0])),
            "end": _iso(float(series.times[-1])),
        },
        "metrics": metrics,
        "training": {"seed": options.seed, "target": options.target_false_alarm_rate},
        "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    model = ServiceModel(service, learner.to_bytes(), card)
    return TrainedModel(model, metrics, params, series.times, p, flags, split)


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds")
