"""A trained model against labelled incidents, scored as NAB scores detectors.

Two kinds of labelled data:
- the service's own history (files with the model's features, windows in NAB's
  `combined_windows.json` format): each file is streamed, as live, through a copy of the model's
  warm learner, so what is measured is the model as the judging loop would start with it;
- the NAB corpus (`data/<category>/<file>.csv` and `labels/combined_windows.json`): its series
  are not the service's features, so each file gets a fresh learner with the model's
  configuration (its calibrated flag threshold included): what is measured is that
  configuration on incidents of other systems.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sentra_ml.analysis.anomaly import ServiceLearner
from sentra_ml.analysis.nab import PROFILES
from sentra_ml.store.model_bundle import ServiceModel
from sentra_training.evaluation import Evaluation, ScoredFile, evaluate_scored, read_labels
from sentra_training.history import read_history
from sentra_training.series import InputError, Progress, Series, Windows, live, read_series

HISTORY = "history"
NAB = "nab"
NAB_ENV = "SENTRA_NAB_DIR"


@dataclass(frozen=True)
class LabelledSet:
    """Labelled series; `warm`: start each from the model's learner (else a fresh one)."""

    name: str
    series: dict[str, Series]
    windows: dict[str, Windows]
    warm: bool

    @property
    def rows(self) -> int:
        return sum(len(s) for s in self.series.values())


def labelled_history(paths: Sequence[Path], labels: Path) -> LabelledSet:
    """The service's history files with their windows from `labels` (keyed by the path as given
    or by the file's name); InputError names a file without an entry."""
    windows = read_labels(labels)
    series: dict[str, Series] = {}
    matched: dict[str, Windows] = {}
    for path in paths:
        key = next((k for k in (str(path), path.name) if k in windows), None)
        if key is None:
            keys = ", ".join(sorted(windows)) or "none"
            raise InputError(f"{labels}: no windows for {path} (keys: {keys})")
        series[key], matched[key] = read_history(path), windows[key]
    return LabelledSet(HISTORY, series, matched, warm=True)


def labelled_sets(
    history: Sequence[Path], labels: Path | None, nab: Path | None
) -> dict[str, LabelledSet]:
    """The sets named by `--eval-history`/`--history` with `--labels`, and `--nab`."""
    if history and labels is None:
        raise InputError("--labels: required with the labelled history files")
    if labels is not None and not history:
        raise InputError("--labels: give the history files the windows label")
    sets = {}
    if history and labels is not None:
        sets[HISTORY] = labelled_history(history, labels)
    if nab is not None:
        sets[NAB] = nab_corpus(nab)
    return sets


def default_nab_dir() -> Path | None:
    """`$SENTRA_NAB_DIR`, else the shared NAB set beside the checkout (`../shared/datasets/nab`
    from the working directory or from this source tree), if there."""
    if os.environ.get(NAB_ENV):
        return Path(os.environ[NAB_ENV])
    here = Path(__file__).resolve().parents[2]
    for root in (Path.cwd(), here):
        candidate = root.parent / "shared" / "datasets" / "nab"
        if (candidate / "labels" / "combined_windows.json").is_file():
            return candidate
    return None


def nab_corpus(root: Path) -> LabelledSet:
    """NAB's layout: `labels/combined_windows.json` and the files it names under `data/`."""
    labels = root / "labels" / "combined_windows.json"
    if not labels.is_file():
        raise InputError(f"--nab: {root}: no labels/combined_windows.json (NAB's layout)")
    windows = read_labels(labels)
    series: dict[str, Series] = {}
    for name in sorted(windows):
        path = root / "data" / name
        if not path.is_file():
            raise InputError(f"--nab: {labels} names {name}, but {path} is missing")
        series[name] = read_series(path)
    if not series:
        raise InputError(f"--nab: {labels}: no labelled file")
    return LabelledSet(NAB, series, windows, warm=False)


def _scored(
    model: ServiceModel, labelled: LabelledSet, name: str, progress: Progress | None
) -> ScoredFile:
    series = labelled.series[name]
    warm = model.learner()
    if labelled.warm:
        features = sorted(model.card.get("features") or series.columns)
        if sorted(series.columns) != features:
            raise InputError(
                f"{name}: columns {sorted(series.columns)} are not the model's features {features}"
            )
        learner = warm
    else:
        learner = ServiceLearner(warm.config)
    n = len(series)
    scores = np.empty(n, dtype=np.float64)
    flags = np.zeros(n, dtype=bool)
    for i, detection in enumerate(live(series, learner, progress)):
        scores[i], flags[i] = detection.score, detection.flag
    return ScoredFile(name, Path(name), series.times, scores, flags, labelled.windows[name])


def evaluate_set(
    model: ServiceModel,
    labelled: LabelledSet,
    profiles: Sequence[str] = tuple(PROFILES),
    progress: Progress | None = None,
) -> Evaluation:
    """Every file of `labelled` scored by the model, then counted and scored as NAB does."""
    files = [_scored(model, labelled, name, progress) for name in labelled.series]
    return evaluate_scored(files, profiles)


def evaluation_metrics(sets: dict[str, Evaluation]) -> dict[str, float]:
    """MLflow metrics of evaluations: `eval.<set>.<profile>` is the NAB score at the model's
    own flags, `.best` at NAB's best threshold; windows, windows found and false alarms are
    counted at the flags."""
    metrics: dict[str, float] = {}
    for name, evaluation in sets.items():
        total = evaluation.total
        prefix = f"eval.{name}"
        metrics[f"{prefix}.files"] = float(len(evaluation.files))
        metrics[f"{prefix}.windows"] = float(total.windows)
        metrics[f"{prefix}.windows_found"] = float(total.detected)
        metrics[f"{prefix}.false_alarms"] = float(total.false_positives)
        if math.isfinite(total.mean_delay_s):
            metrics[f"{prefix}.mean_delay_s"] = total.mean_delay_s
        for profile in evaluation.nab:
            metrics[f"{prefix}.{profile}"] = evaluation.nab_flags[profile].score
            metrics[f"{prefix}.{profile}.best"] = evaluation.nab[profile].score
    return metrics
