"""Offline anomaly scoring and NAB evaluation: CSV files in and out, progress (plots elsewhere)."""

from __future__ import annotations

import csv
import json
import os
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from sentra_ml.analysis.anomaly import LearnerConfig, ServiceLearner
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

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]
Windows = list[tuple[float, float]]
Progress = Callable[[int], None]
TIMESTAMP = "timestamp"
_EPOCH = pd.Timestamp(0, tz="UTC")


class InputError(ValueError):
    """An input file cannot be used; the message names the file, column and line."""


@dataclass(frozen=True)
class Series:
    """A CSV time series: its timestamps as written, as Unix seconds, and numeric columns."""

    stamps: list[str]
    times: FloatArray
    columns: dict[str, FloatArray]

    def __len__(self) -> int:
        return len(self.stamps)


def parse_times(stamps: pd.Series, source: str) -> FloatArray:
    """Unix seconds of numeric (Unix) or ISO-8601 timestamps; InputError names a bad line."""
    numeric = pd.to_numeric(stamps, errors="coerce")
    if not numeric.isna().any():
        return numeric.to_numpy(dtype=np.float64)
    parsed = pd.to_datetime(stamps, utc=True, errors="coerce", format="ISO8601")
    bad = np.flatnonzero(parsed.isna().to_numpy())
    if len(bad):
        i = int(bad[0])
        raise InputError(f"{source}: line {i + 2}: bad timestamp {stamps.iloc[i]!r}")
    return ((parsed - _EPOCH) / pd.Timedelta(seconds=1)).to_numpy(dtype=np.float64)


def read_series(path: Path) -> Series:
    """Read a CSV with a `timestamp` column and numeric columns (empty cells are missing).

    Rows are kept in file order, as a live feed would deliver them, even where a clock goes back.
    """
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except pd.errors.EmptyDataError:
        raise InputError(f"{path}: the file is empty") from None
    except (OSError, UnicodeDecodeError, pd.errors.ParserError) as e:
        raise InputError(f"{path}: cannot read CSV ({e})") from None
    if TIMESTAMP not in frame.columns:
        found = ", ".join(map(str, frame.columns)) or "none"
        raise InputError(f"{path}: no '{TIMESTAMP}' column (columns: {found})")
    if frame.empty:
        raise InputError(f"{path}: no data rows after the header")
    names = [c for c in frame.columns if c != TIMESTAMP]
    if not names:
        raise InputError(f"{path}: no numeric column besides '{TIMESTAMP}'")
    times = parse_times(frame[TIMESTAMP], str(path))
    columns: dict[str, FloatArray] = {}
    for name in names:
        text = frame[name].str.strip()
        values = pd.to_numeric(text, errors="coerce")
        bad = np.flatnonzero((values.isna() & (text != "")).to_numpy())
        if len(bad):
            i = int(bad[0])
            raise InputError(
                f"{path}: line {i + 2}, column '{name}': {frame[name].iloc[i]!r} is not a number"
            )
        columns[str(name)] = values.to_numpy(dtype=np.float64)
    return Series(frame[TIMESTAMP].tolist(), times, columns)


def score_series(
    series: Series, config: LearnerConfig | None = None, on_progress: Progress | None = None
) -> tuple[FloatArray, BoolArray]:
    """Stream every row through one learner as live (scored, then learned)."""
    learner = ServiceLearner(config)
    n = len(series)
    scores = np.empty(n, dtype=np.float64)
    flags = np.zeros(n, dtype=bool)
    names = list(series.columns)
    rows = zip(*(series.columns[c].tolist() for c in names), strict=True)
    for i, (ts, values) in enumerate(zip(series.times.tolist(), rows, strict=True)):
        detection = learner.update(dict(zip(names, values, strict=True)), ts)
        scores[i], flags[i] = detection.score, detection.flag
        if on_progress is not None and (i + 1) % 1000 == 0:
            on_progress(1000)
    if on_progress is not None:
        on_progress(n % 1000)
    return scores, flags


@contextmanager
def atomic_writer(path: Path) -> Iterator[IO[str]]:
    """A text file that replaces `path` only if the block succeeds (never half-written)."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}-", dir=path.parent)
    try:
        with os.fdopen(fd, "w", newline="") as handle:
            yield handle
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_scores(path: Path, stamps: Sequence[str], scores: FloatArray, flags: BoolArray) -> None:
    """Write `timestamp,score,flag` rows, all or nothing."""
    with atomic_writer(path) as handle:
        out = csv.writer(handle)
        out.writerow([TIMESTAMP, "score", "flag"])
        for stamp, score, flag in zip(stamps, scores.tolist(), flags.tolist(), strict=True):
            out.writerow([stamp, f"{score:.12g}", int(flag)])


def score_file(
    source: Path,
    target: Path,
    config: LearnerConfig | None = None,
    on_progress: Progress | None = None,
) -> tuple[Series, FloatArray, BoolArray]:
    """Score a CSV series into a scores CSV; InputError if the input is unusable."""
    series = read_series(source)
    scores, flags = score_series(series, config, on_progress)
    write_scores(target, series.stamps, scores, flags)
    return series, scores, flags


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
    return Evaluation(files, counts, nab, nab_flags, missing)


@contextmanager
def rich_progress(description: str, total_rows: int) -> Iterator[Progress]:
    """A rich progress bar on stderr; yields a callback taking rows done since the last call."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as progress:
        task = progress.add_task(description, total=total_rows)
        yield lambda rows: progress.advance(task, rows)
