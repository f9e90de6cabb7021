"""A service's history from CloudWatch: one GetMetricData call (paged) per `--metrics` entry.

The metrics are described as in a rollout's CloudWatch source (`CloudWatchMetric`): a ratio is
two counters summed per period and becomes the feature `<name>.ratio` (failed / total; a period
without traffic gives no value), a gauge is a statistic per period and becomes `<name>`, as the
judge names its features. The service's own `dimensions` select its series.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from sentra_adapters.aws import aws_client
from sentra_adapters.errors import AdapterError
from sentra_adapters.telemetry.cloudwatch import CloudWatchMetric, metric_data

from sentra_training.history import parse_duration
from sentra_training.series import FloatArray, InputError, Series

_BACKEND = "cloudwatch"
_PERIODS = (1, 5, 10, 30)  # high-resolution periods; otherwise whole minutes


def read_metrics(path: Path) -> list[CloudWatchMetric]:
    """CloudWatch metrics from a YAML or JSON file: a list of metric mappings (a rollout source's
    `metrics`), or a mapping holding such a list under `metrics`."""
    try:
        data = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise InputError(f"--metrics: {path}: no such file") from None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as e:
        raise InputError(f"--metrics: {path}: not YAML or JSON ({e})") from None
    if isinstance(data, dict):
        data = data.get("metrics")
    if not isinstance(data, list) or not data:
        raise InputError(
            f"--metrics: {path}: expected a list of metrics (name, kind, namespace...)"
        )
    metrics = []
    for i, entry in enumerate(data):
        if not isinstance(entry, dict):
            raise InputError(f"--metrics: {path}: entry {i + 1} is not a mapping")
        try:
            metrics.append(CloudWatchMetric.from_config(entry))
        except AdapterError as e:
            raise InputError(f"--metrics: {path}: entry {i + 1}: {e.cause}") from None
    return metrics


def parse_dimensions(items: Sequence[str]) -> dict[str, str]:
    """`Name=Value` pairs; InputError names a malformed one."""
    dimensions: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip() or not value.strip():
            raise InputError(f"--dimension: {item!r} is not Name=Value")
        dimensions[name.strip()] = value.strip()
    return dimensions


def check_step(step: float) -> int:
    if step != int(step) or (step not in _PERIODS and (step <= 0 or step % 60)):
        raise InputError(f"--step: CloudWatch periods are 1, 5, 10, 30 or k*60 s, not {step:g}")
    return int(step)


def cloudwatch_since(
    metrics: Path,
    dimensions: list[str],
    since: str,
    step: float,
    region: str | None,
    endpoint_url: str | None,
) -> tuple[Series, str]:
    """`sentra train --source cloudwatch`: the last `since` of the metrics in the file, and a
    line naming where the history came from."""
    period = check_step(step)
    end = math.floor(time.time() / period) * period
    history = cloudwatch_history(
        read_metrics(metrics),
        parse_dimensions(dimensions),
        end - parse_duration(since),
        end,
        period,
        region=region,
        endpoint_url=endpoint_url,
    )
    return history, f"cloudwatch {endpoint_url or region or 'default region'} last {since}"


def cloudwatch_history(
    metrics: Sequence[CloudWatchMetric],
    dimensions: Mapping[str, str],
    start: float,
    end: float,
    step: int,
    *,
    client: Any = None,
    region: str | None = None,
    endpoint_url: str | None = None,
) -> Series:
    """One feature per metric on a common grid of period ends; a metric without any datapoint
    in the window is refused (the model would learn nothing of it, or a name is misspelt)."""
    if client is None:
        try:
            client = aws_client(
                "cloudwatch", region=region, endpoint_url=endpoint_url, timeout=30, max_attempts=3
            )
        except Exception as e:  # botocore refuses a malformed endpoint or region at once
            raise InputError(f"cloudwatch: cannot make a client: {e}") from None
    values: dict[str, dict[float, float]] = {}
    try:
        for metric in metrics:
            found = metric_data(
                client, metric, {**dimensions, **metric.dimensions}, start, end, step
            )
            feature = _feature(metric, found, step)
            if not feature:
                shown = ", ".join(f"{k}={v}" for k, v in sorted(dimensions.items())) or "none"
                raise InputError(
                    f"--metrics {metric.name}: no datapoints in {metric.namespace} "
                    f"{sorted(metric.metrics.values())} with dimensions {shown}"
                )
            name = f"{metric.name}.ratio" if "total" in metric.metrics else metric.name
            values[name] = feature
    except AdapterError as e:
        raise InputError(str(e)) from None
    grid = sorted({t for points in values.values() for t in points})
    times: FloatArray = np.array(grid, dtype=np.float64)
    columns = {n: np.array([p.get(t, math.nan) for t in grid]) for n, p in values.items()}
    return Series([f"{t:.0f}" for t in grid], times, columns)


def _feature(
    metric: CloudWatchMetric, found: Mapping[str, dict[float, float]], step: int
) -> dict[float, float]:
    """The feature's value per period end: a gauge's statistic, a ratio's failed / total."""
    if "value" in found:
        return {t + step: v for t, v in found["value"].items() if math.isfinite(v)}
    failed = found["failed"]
    # no failure datapoint in a period with traffic is no failure, not missing data
    return {
        t + step: min(failed.get(t, 0.0), total) / total
        for t, total in found["total"].items()
        if total > 0
    }
