"""A service's history for training: a CSV, JSON-lines or Parquet export, or a Prometheus range
query.

Every form becomes a `Series`: timestamps and one numeric column per feature, in time order.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
from sentra_adapters.errors import AdapterError
from sentra_adapters.telemetry.prometheus import PrometheusSource
from sentra_adapters.telemetry.range_query import chunks

from sentra_training.parquet import read_parquet
from sentra_training.series import (
    TIMESTAMP,
    FloatArray,
    InputError,
    Series,
    parse_times,
    read_series,
)

_DURATION = re.compile(r"^(\d+(?:\.\d+)?)([smhdw])$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(text: str, option: str = "--since") -> float:
    """Seconds of a duration such as `90s`, `30m`, `12h`, `14d`, `2w`; InputError otherwise."""
    match = _DURATION.match(text.strip())
    if not match or float(match.group(1)) <= 0:
        raise InputError(f"{option}: {text!r} is not a duration such as 30m, 12h, 14d")
    return float(match.group(1)) * _UNIT_SECONDS[match.group(2)]


def read_history(path: Path) -> Series:
    """A CSV (`.csv`), JSON-lines (`.jsonl`, `.ndjson`, `.json`) or Parquet (`.parquet`,
    `.pq`) export, in time order."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        series = read_series(path)
    elif suffix in (".jsonl", ".ndjson", ".json"):
        series = _read_json_lines(path)
    elif suffix in (".parquet", ".pq"):
        series = read_parquet(path)
    else:
        raise InputError(f"{path}: unknown format '{suffix}' (use .csv, .jsonl or .parquet)")
    return _in_time_order(series)


def _read_json_lines(path: Path) -> Series:
    try:
        lines = path.read_text().splitlines()
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(f"{path}: cannot read ({e})") from None
    rows: list[dict[str, object]] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as e:
            raise InputError(f"{path}: line {number}: not JSON ({e.msg})") from None
        if not isinstance(row, dict) or TIMESTAMP not in row:
            raise InputError(f"{path}: line {number}: expected an object with '{TIMESTAMP}'")
        for key, value in row.items():
            if key != TIMESTAMP and (isinstance(value, bool) or not isinstance(value, int | float)):
                raise InputError(f"{path}: line {number}, field '{key}': {value!r} is not a number")
        rows.append(row)
    if not rows:
        raise InputError(f"{path}: no data lines")
    stamps = [str(r[TIMESTAMP]) for r in rows]
    names = sorted({k for r in rows for k in r if k != TIMESTAMP})
    if not names:
        raise InputError(f"{path}: no numeric field besides '{TIMESTAMP}'")
    columns = {n: np.array([float(r.get(n, math.nan)) for r in rows]) for n in names}  # type: ignore[arg-type]
    return Series(stamps, parse_times(pd.Series(stamps), str(path)), columns)


def _in_time_order(series: Series) -> Series:
    order = np.argsort(series.times, kind="stable")
    if np.all(order == np.arange(len(order))):
        return series
    return Series(
        [series.stamps[i] for i in order],
        series.times[order],
        {k: v[order] for k, v in series.columns.items()},
    )


def prometheus_history(
    url: str,
    queries: Mapping[str, str],
    start: float,
    end: float,
    step: float,
    client: httpx.Client | None = None,
) -> Series:
    """One feature per PromQL query (each must return one series), on a common time grid.

    A query with no data is refused (the model would learn nothing of it); timestamps where some
    feature has no value keep it missing (NaN), which the learner skips.
    """
    # the source is used for its range queries only: cohorts are never rendered
    cohorts = {"baseline": "", "canary": ""}
    source = PrometheusSource(url=url, cohorts=cohorts, metrics=[], step=step, client=client)
    values: dict[str, dict[float, float]] = {}
    try:
        for name, query in queries.items():
            merged: dict[float, float] = {}
            for lo, hi in chunks(start, end, step):
                result = source.query_range(query, lo, hi)
                if len(result) > 1:
                    raise InputError(
                        f"--query {name}: {len(result)} series returned; aggregate to one "
                        "(e.g. sum(...))"
                    )
                for _, points in result:
                    merged.update(points)
            if not merged:
                raise InputError(f"--query {name}: no data in the window ({query})")
            values[name] = merged
    except AdapterError as e:
        raise InputError(f"--url: {e}") from None
    finally:
        source.close()
    grid = sorted({t for points in values.values() for t in points})
    times: FloatArray = np.array(grid, dtype=np.float64)
    columns = {n: np.array([p.get(t, math.nan) for t in grid]) for n, p in values.items()}
    stamps = [f"{t:.0f}" if t.is_integer() else repr(t) for t in grid]
    return Series(stamps, times, columns)
