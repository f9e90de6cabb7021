"""CloudWatch source: one ``get_metric_data`` call per fetch, a query per CloudWatch metric.

A ratio metric is two counters summed per period (e.g. Lambda ``Errors`` / ``Invocations`` per
version, ALB ``HTTPCode_Target_5XX_Count`` / ``RequestCount`` per target group); a gauge is a
statistic per period (``Average`` by default). CloudWatch returns nothing for a period without
datapoints, and cannot tell a misspelt metric or dimension from a silent one: both are "no data",
an empty window. No answer, throttling and 5xx are Unavailable.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar

from sentra_adapters.aws import aws_call, aws_client
from sentra_adapters.errors import BadResponse, Misconfigured, Rejected, Unavailable
from sentra_adapters.options import cohort_names
from sentra_adapters.telemetry.base import Window, by_name, grid, requested
from sentra_ml.analysis.types.errors import SampleError
from sentra_ml.analysis.types.labels import Cohort, MetricKind
from sentra_ml.analysis.types.samples import GaugeSample, RatioSample, Sample

_BACKEND = "cloudwatch"
_QUERIES: Mapping[MetricKind, tuple[str, ...]] = {
    MetricKind.RATIO: ("total", "failed"),
    MetricKind.GAUGE: ("value",),
}
_PERIODS = (1, 5, 10, 30)  # below a minute (high-resolution metrics); else multiples of 60


@dataclass(frozen=True)
class CloudWatchMetric:
    """A Sentra metric from CloudWatch metrics of `namespace`: `metrics` maps ``total`` and
    ``failed`` (ratio) or ``value`` (gauge) to a CloudWatch metric name; `dimensions` are added
    to the cohort's."""

    name: str
    kind: MetricKind
    namespace: str
    metrics: Mapping[str, str]
    stat: str = ""  # "" is Sum for a ratio's counters, Average for a gauge
    dimensions: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        where = f"metrics[{self.name}]"
        kind = MetricKind(self.kind)
        if kind not in _QUERIES:
            raise Misconfigured(_BACKEND, f"{where}: CloudWatch has no {kind} samples")
        if set(self.metrics) != set(_QUERIES[kind]):
            raise Misconfigured(_BACKEND, f"{where}: a {kind} metric needs {_QUERIES[kind]}")
        if not self.stat:
            object.__setattr__(self, "stat", "Sum" if kind is MetricKind.RATIO else "Average")

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> CloudWatchMetric:
        """From a spec mapping: ``{name, kind, namespace, total, failed}`` (or ``value``),
        optionally ``stat`` and ``dimensions``."""
        try:
            kind = MetricKind(config["kind"])
            return cls(
                name=str(config["name"]),
                kind=kind,
                namespace=str(config["namespace"]),
                metrics={q: str(config[q]) for q in _QUERIES.get(kind, ())},
                stat=str(config.get("stat", "")),
                dimensions=dict(config.get("dimensions", {})),
            )
        except (KeyError, ValueError, TypeError) as e:
            raise Misconfigured(_BACKEND, f"metrics: bad entry {dict(config)!r}: {e!r}") from e


class CloudWatchSource:
    """Samples of `step`-second periods from CloudWatch.

    `cohorts` maps each cohort to its dimensions (``{"FunctionName": "f", "Resource": "f:live",
    "ExecutedVersion": "2"}``); `metrics` are CloudWatchMetric objects or their spec mappings.
    A `client` (boto3 ``cloudwatch``) may be injected; otherwise one is made for `region` and
    `endpoint_url`.
    """

    kind: ClassVar[str] = "cloudwatch"

    def __init__(
        self,
        *,
        cohorts: Mapping[str, Mapping[str, str]],
        metrics: Sequence[CloudWatchMetric | Mapping[str, Any]],
        step: int = 60,
        region: str | None = None,
        endpoint_url: str | None = None,
        timeout: float = 5.0,
        max_attempts: int = 3,
        client: Any = None,
    ) -> None:
        if step != int(step) or (step not in _PERIODS and (step <= 0 or step % 60)):
            raise Misconfigured(self.kind, f"step: must be 1, 5, 10, 30 or k*60 s, got {step}")
        checked = cohort_names(self.kind, dict.fromkeys(cohorts, ""), "cohorts")
        self.cohorts = {c: dict(cohorts[c]) for c in checked}
        if self.cohorts[Cohort.BASELINE] == self.cohorts[Cohort.CANARY]:
            # with the same dimensions both cohorts would read the same series
            raise Misconfigured(self.kind, "cohorts: baseline and canary need different dimensions")
        parsed = [
            m if isinstance(m, CloudWatchMetric) else CloudWatchMetric.from_config(m)
            for m in metrics
        ]
        self._metrics = by_name(self.kind, parsed)
        self.step = int(step)  # CloudWatch periods are whole seconds
        self.client = client or aws_client(
            "cloudwatch",
            region=region,
            endpoint_url=endpoint_url,
            timeout=timeout,
            max_attempts=max_attempts,
        )

    def metrics(self) -> Sequence[str]:
        """The configured metric names."""
        return list(self._metrics)

    def fetch(self, metric: str, cohort: Cohort, start: float, end: float) -> Window:
        """Samples of the periods that end in [start, end], on a grid of `step` seconds so that
        successive windows tile without overlap; a sample's `ts` is its period's end."""
        spec, cohort = requested(self.kind, self._metrics, self.cohorts, metric, cohort)
        first, last = grid(start, end, self.step)
        if first > last:
            return Window(metric, cohort, start, end, ())
        values = self._query(spec, self.cohorts[cohort], first - self.step, last)
        try:
            samples = [
                s
                for s in _samples(spec, cohort, values, self.step)
                if first <= s.ts <= last  # CloudWatch's end bound is not exact on every API
            ]
        except (SampleError, ValueError) as e:
            raise BadResponse(self.kind, f"{metric}: values Sentra cannot use: {e}") from e
        return Window(metric, cohort, start, end, tuple(samples))

    def _query(
        self, spec: CloudWatchMetric, dimensions: Mapping[str, str], start: float, end: float
    ) -> dict[str, dict[float, float]]:
        dims = {**dimensions, **spec.dimensions}
        return metric_data(self.client, spec, dims, start, end, self.step)


def metric_data(
    client: Any,
    spec: CloudWatchMetric,
    dimensions: Mapping[str, str],
    start: float,
    end: float,
    step: int,
) -> dict[str, dict[float, float]]:
    """Values per period start (Unix seconds) of each query of `spec` with exactly `dimensions`,
    every page of GetMetricData read; raises an `AdapterError` naming the metric."""
    queries = [
        {
            "Id": query,
            "MetricStat": {
                "Metric": {
                    "Namespace": spec.namespace,
                    "MetricName": name,
                    "Dimensions": [{"Name": k, "Value": v} for k, v in sorted(dimensions.items())],
                },
                "Period": step,
                "Stat": spec.stat,
            },
            "ReturnData": True,
        }
        for query, name in spec.metrics.items()
    ]
    params: dict[str, Any] = {
        "MetricDataQueries": queries,
        "StartTime": datetime.fromtimestamp(start, UTC),
        "EndTime": datetime.fromtimestamp(end, UTC),
        "ScanBy": "TimestampAscending",
    }
    found: dict[str, dict[float, float]] = {q: {} for q in spec.metrics}
    while True:
        page = aws_call(_BACKEND, "get_metric_data", client.get_metric_data, **params)
        for result in page.get("MetricDataResults") or []:
            _check_status(spec.name, result)
            try:
                pairs = zip(result["Timestamps"], result["Values"], strict=True)
                found[result["Id"]].update((t.timestamp(), float(v)) for t, v in pairs)
            except (KeyError, TypeError, ValueError, AttributeError) as e:
                raise BadResponse(_BACKEND, f"{spec.name}: malformed result: {e!r}") from e
        token = page.get("NextToken")
        if not token:
            return found
        params["NextToken"] = token


def _check_status(metric: str, result: Mapping[str, Any]) -> None:
    """Raises for a query CloudWatch could not answer in full (``PartialData`` pages on)."""
    status = result.get("StatusCode", "Complete")
    if status in ("Complete", "PartialData"):
        return
    messages = "; ".join(m.get("Value", "") for m in result.get("Messages") or []) or "no detail"
    error = Rejected if status == "Forbidden" else Unavailable
    raise error(_BACKEND, f"{metric}: query {result.get('Id')} {status}: {messages}")


def _samples(
    spec: CloudWatchMetric, cohort: Cohort, values: Mapping[str, dict[float, float]], step: int
) -> list[Sample]:
    if spec.kind is MetricKind.GAUGE:
        return [
            GaugeSample(ts + step, cohort, spec.name, v)
            for ts, v in sorted(values["value"].items())
            if math.isfinite(v)
        ]
    failures = values["failed"]
    # no failure datapoint in a period means no failure, not missing data; the two counters are
    # aggregated apart, so a late failure may land a period after its request: cap at the total
    return [
        RatioSample(ts + step, cohort, spec.name, total, min(failures.get(ts, 0.0), total))
        for ts, total in sorted(values["total"].items())
    ]
