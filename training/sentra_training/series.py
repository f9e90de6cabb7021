"""Time series files: CSV with a `timestamp` column and numeric ones, read with errors that name
the file, column and line; atomic writes."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from sentra_ml.analysis.anomaly import Detection, ServiceLearner

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


def feature_columns(frame: pd.DataFrame, path: Path, empty: str) -> list[str]:
    """The names of an export's columns besides `timestamp`; InputError when it has no
    `timestamp` column, no rows (the message `empty`) or no other column."""
    if TIMESTAMP not in frame.columns:
        found = ", ".join(map(str, frame.columns)) or "none"
        raise InputError(f"{path}: no '{TIMESTAMP}' column (columns: {found})")
    if frame.empty:
        raise InputError(f"{path}: {empty}")
    names = [str(c) for c in frame.columns if c != TIMESTAMP]
    if not names:
        raise InputError(f"{path}: no numeric column besides '{TIMESTAMP}'")
    return names


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
    names = feature_columns(frame, path, empty="no data rows after the header")
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


def live(
    series: Series, learner: ServiceLearner, on_progress: Progress | None = None
) -> Iterator[Detection]:
    """Each row through `learner` as the live service would (scored, then learned), in order;
    `on_progress` hears every thousand rows."""
    names = list(series.columns)
    rows = zip(*(series.columns[c].tolist() for c in names), strict=True)
    for i, (ts, values) in enumerate(zip(series.times.tolist(), rows, strict=True)):
        yield learner.update(dict(zip(names, values, strict=True)), ts)
        if on_progress is not None and (i + 1) % 1000 == 0:
            on_progress(1000)
    if on_progress is not None:
        on_progress(len(series) % 1000)
