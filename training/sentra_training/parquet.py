"""Parquet exports of a service's history: a `timestamp` column (a timestamp type, Unix seconds
or ISO-8601 text) and one numeric column per feature; nulls are missing values.

Reading needs pyarrow, an optional dependency (`pip install 'sentra-ml[parquet]'`): it is a
large package that the service itself never needs.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from sentra_training.series import (
    TIMESTAMP,
    FloatArray,
    InputError,
    Series,
    feature_columns,
    parse_times,
)


def read_parquet(path: Path) -> Series:
    """The export at `path` in file order; InputError names the file and the column at fault."""
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        raise InputError(
            f"{path}: reading Parquet needs pyarrow (pip install 'sentra-ml[parquet]')"
        ) from None
    try:
        frame = pd.read_parquet(path, engine="pyarrow")
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except (OSError, ValueError) as e:  # pyarrow's ArrowInvalid is a ValueError
        raise InputError(f"{path}: cannot read Parquet ({e})") from None
    names = feature_columns(frame, path, empty="no rows")
    stamps, times = _times(frame[TIMESTAMP], path)
    columns: dict[str, FloatArray] = {}
    for name in names:
        column = frame[name]
        if pd.api.types.is_bool_dtype(column) or not pd.api.types.is_numeric_dtype(column):
            raise InputError(f"{path}: column '{name}' is {column.dtype}, not a number")
        columns[name] = column.to_numpy(dtype=np.float64, na_value=np.nan)
    return Series(stamps, times, columns)


def _times(column: pd.Series, path: Path) -> tuple[list[str], FloatArray]:
    """Timestamps as written (ISO 8601 for a timestamp type) and as Unix seconds."""
    if column.isna().any():
        row = int(np.flatnonzero(column.isna().to_numpy())[0])
        raise InputError(f"{path}: row {row + 1}: no timestamp")
    if pd.api.types.is_datetime64_any_dtype(column):
        utc = pd.to_datetime(column, utc=True)  # a naive timestamp is taken as UTC
        seconds = (utc - pd.Timestamp(0, tz="UTC")) / pd.Timedelta(seconds=1)
        return [t.isoformat() for t in utc], seconds.to_numpy(dtype=np.float64)
    if pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
        seconds = column.to_numpy(dtype=np.float64)
        return [f"{t:.0f}" if t.is_integer() else repr(t) for t in seconds.tolist()], seconds
    text = column.astype(str)
    return text.tolist(), parse_times(text, str(path))
