"""NAB evaluation of scores files against labelled windows."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from sentra_ml.analysis.nab import (
    PROFILES,
    DetectionCounts,
    Sweep,
    count_detections,
    fixed_score,
    point_weights,
    sweep,
    total,
)
from sentra_training.series import (
    BoolArray,
    FloatArray,
    InputError,
    Windows,
    parse_times,
    read_series,
)


def read_labels(path: Path) -> dict[str, Windows]:
    """NAB windows: a JSON object mapping a file to a list of [start, end] timestamps."""
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise InputError(f"{path}: not JSON ({e})") from None
    if not isinstance(data, dict):
        raise InputError(f"{path}: expected an object mapping files to lists of [start, end]")
    labels: dict[str, Windows] = {}
    for name, windows in data.items():
        if not isinstance(windows, list) or not all(
            isinstance(w, list) and len(w) == 2 for w in windows
        ):
            raise InputError(f"{path}: '{name}': expected a list of [start, end] pairs")
        if not windows:
            labels[name] = []
            continue
        flat = pd.Series([str(v) for w in windows for v in w])
        secs = parse_times(flat, f"{path}: '{name}'").tolist()
        labels[name] = [(secs[i], secs[i + 1]) for i in range(0, len(secs), 2)]
    return labels


@dataclass(frozen=True)
class ScoredFile:
    """A scores CSV (`timestamp,score,flag`) matched to its labelled windows."""

    name: str
    path: Path
    times: FloatArray
    scores: FloatArray
    flags: BoolArray
    windows: Windows


def read_scored(path: Path, name: str, windows: Windows) -> ScoredFile:
    """Read a scores CSV as written by `score`; InputError names a bad column or line."""
    series = read_series(path)
    for column in ("score", "flag"):
        if column not in series.columns:
            raise InputError(f"{path}: no '{column}' column")
    scores = np.nan_to_num(series.columns["score"], nan=0.0)
    flags = np.nan_to_num(series.columns["flag"], nan=0.0) > 0
    return ScoredFile(name, path, series.times, scores, flags, windows)


@dataclass
class Evaluation:
    """Per-file detection counts at the detector's own flags and corpus NAB scores."""

    files: list[ScoredFile]
    counts: dict[str, DetectionCounts]
    nab: dict[str, Sweep]  # per profile, at the best threshold over the corpus
    nab_flags: dict[str, Sweep]  # per profile, at the detector's own flags
    missing: list[str] = field(default_factory=list)  # labelled files without scores

    @property
    def total(self) -> DetectionCounts:
        return total(self.counts.values())


def find_scores(directory: Path, name: str) -> Path | None:
    """`DIR/<labels key>`, else `DIR/<its file name>`."""
    for candidate in (directory / name, directory / Path(name).name):
        if candidate.is_file():
            return candidate
    return None


def evaluate_scores(
    directory: Path, labels: dict[str, Windows], profiles: Sequence[str] = tuple(PROFILES)
) -> Evaluation:
    """Score every labelled file found under `directory` against its windows."""
    files: list[ScoredFile] = []
    missing: list[str] = []
    for name in sorted(labels):
        path = find_scores(directory, name)
        if path is None:
            missing.append(name)
        else:
            files.append(read_scored(path, name, labels[name]))
    if not files:
        raise InputError(f"{directory}: no scores file for any of the {len(labels)} labelled files")
    return evaluate_scored(files, profiles, missing)


def evaluate_scored(
    files: list[ScoredFile], profiles: Sequence[str] = tuple(PROFILES), missing: Sequence[str] = ()
) -> Evaluation:
    """Detection counts at each file's flags and corpus NAB scores of already scored files."""
    standard = PROFILES["standard"]
    counts = {
        f.name: count_detections(point_weights(f.times, f.windows, standard), f.times, f.flags)
        for f in files
    }
    nab: dict[str, Sweep] = {}
    nab_flags: dict[str, Sweep] = {}
    for key in profiles:
        profile = PROFILES[key]
        weights = [point_weights(f.times, f.windows, profile) for f in files]
        nab[key] = sweep(list(zip(weights, (f.scores for f in files), strict=True)), profile)
        nab_flags[key] = fixed_score(
            list(zip(weights, (f.flags for f in files), strict=True)), profile
        )
    return Evaluation(files, counts, nab, nab_flags, list(missing))
