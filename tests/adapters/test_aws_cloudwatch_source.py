"""CloudWatchSource against moto in server mode: data put with put_metric_data, then fetched."""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from typing import Any

import pytest
from aws_server import MotoSetup, answering, client_at, dead_client, put_points, running_moto
from sentra_adapters.errors import Misconfigured, Rejected, Unavailable
from sentra_adapters.telemetry.registry import sources

from sentra_ml.analysis.types.labels import Cohort
from sentra_ml.analysis.types.samples import GaugeSample, RatioSample

STEP = 10
LAMBDA = {
    "baseline": {"FunctionName": "app", "Resource": "app:live", "ExecutedVersion": "1"},
    "canary": {"FunctionName": "app", "Resource": "app:live", "ExecutedVersion": "2"},
}
ALB = {
    "baseline": {"LoadBalancer": "app/web/50dc6c495c0c9188", "TargetGroup": "targetgroup/blue/1"},
    "canary": {"LoadBalancer": "app/web/50dc6c495c0c9188", "TargetGroup": "targetgroup/green/2"},
}
METRICS: list[dict[str, Any]] = [
    {"name": "errors", "kind": "ratio", "namespace": "AWS/Lambda",
     "total": "Invocations", "failed": "Errors"},
    {"name": "concurrency", "kind": "gauge", "namespace": "AWS/Lambda",
     "value": "ConcurrentExecutions"},
]  # fmt: skip
ALB_5XX = {
    "name": "5xx",
    "kind": "ratio",
    "namespace": "AWS/ApplicationELB",
    "total": "RequestCount",
    "failed": "HTTPCode_Target_5XX_Count",
}
# eight whole periods from here on hold data
BASE = float(math.floor(time.time() / STEP) * STEP - 200)


@pytest.fixture(scope="module")
def moto() -> Iterator[MotoSetup]:
    """moto holding eight periods of Lambda and ALB metrics per cohort."""
    with running_moto() as setup:
        cw = setup.client("cloudwatch")
        for cohort, dims in LAMBDA.items():
            offset = 0 if cohort == "baseline" else 1000
            # two datapoints per period, as Lambda reports several times a period
            calls = {BASE + STEP * i + d: offset + 50.0 + i for i in range(8) for d in (2, 7)}
            put_points(cw, "AWS/Lambda", "Invocations", dims, calls)
            # errors only in odd periods: the others must read as zero failures, not as no data
            errors = {BASE + STEP * i + 3: float(i) for i in range(1, 8, 2)}
            put_points(cw, "AWS/Lambda", "Errors", dims, errors)
            gauge = {BASE + STEP * i + d: v for i in range(8) for d, v in ((1, 2.0), (6, 4.0))}
            put_points(cw, "AWS/Lambda", "ConcurrentExecutions", dims, gauge)
        put_points(cw, "AWS/ApplicationELB", "RequestCount", ALB["canary"], {BASE + 5: 400.0})
        put_points(
            cw, "AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", ALB["canary"], {BASE + 5: 12.0}
        )
        yield setup


def source(moto: MotoSetup, **config: Any) -> Any:
    config = {"cohorts": LAMBDA, "metrics": METRICS, "step": STEP, **config}
    return sources.create("cloudwatch", client=moto.client("cloudwatch"), **config)


def test_ratio_samples_hold_the_exact_counts_per_period(moto: MotoSetup) -> None:
    window = source(moto).fetch("errors", Cohort.CANARY, BASE, BASE + 8 * STEP)
    assert window.samples == tuple(
        RatioSample(
            BASE + STEP * (i + 1),
            Cohort.CANARY,
            "errors",
            total=2 * (1050.0 + i),
            failed=float(i if i % 2 else 0),
        )
        for i in range(8)
    )


def test_each_cohort_reads_its_own_dimensions(moto: MotoSetup) -> None:
    window = source(moto).fetch("errors", Cohort.BASELINE, BASE, BASE + STEP)
    assert [(s.ts, s.total) for s in window.samples if isinstance(s, RatioSample)] == [
        (BASE + STEP, 100.0)
    ]


def test_a_gauge_is_the_average_per_period(moto: MotoSetup) -> None:
    window = source(moto).fetch("concurrency", Cohort.BASELINE, BASE + STEP, BASE + 3 * STEP)
    assert window.samples == tuple(
        GaugeSample(BASE + STEP * k, Cohort.BASELINE, "concurrency", 3.0) for k in (1, 2, 3)
    )


class TwoPages:
    """The real client, with each get_metric_data answer split into two pages (CloudWatch pages
    past 100,800 datapoints; moto never does)."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.tokens: list[str | None] = []

    def get_metric_data(self, **params: Any) -> dict[str, Any]:
        token = params.pop("NextToken", None)
        self.tokens.append(token)
        part = slice(3, None) if token else slice(0, 3)
        results = [
            {**r, "Timestamps": r["Timestamps"][part], "Values": r["Values"][part]}
            for r in self.client.get_metric_data(**params)["MetricDataResults"]
        ]
        return {"MetricDataResults": results, **({} if token else {"NextToken": "page-2"})}


def test_every_page_is_read(moto: MotoSetup) -> None:
    paged = TwoPages(moto.client("cloudwatch"))
    src = sources.create("cloudwatch", cohorts=LAMBDA, metrics=METRICS, step=STEP, client=paged)
    window = src.fetch("errors", Cohort.CANARY, BASE, BASE + 8 * STEP)
    assert paged.tokens == [None, "page-2"]
    assert window == source(moto).fetch("errors", Cohort.CANARY, BASE, BASE + 8 * STEP)
    assert len(window.samples) == 8


class Answering:
    """A client whose queries all end with `status` (no server sends this on demand)."""

    def __init__(self, status: str) -> None:
        self.status = status

    def get_metric_data(self, **params: Any) -> dict[str, Any]:
        result = {"Timestamps": [], "Values": [], "StatusCode": self.status,
                  "Messages": [{"Code": self.status, "Value": "try later"}]}  # fmt: skip
        return {
            "MetricDataResults": [{**result, "Id": q["Id"]} for q in params["MetricDataQueries"]]
        }


@pytest.mark.parametrize(
    ("status", "error"), [("InternalError", Unavailable), ("Forbidden", Rejected)]
)
def test_a_query_that_did_not_complete_is_an_error_not_no_data(
    status: str, error: type[Exception]
) -> None:
    src = sources.create("cloudwatch", cohorts=LAMBDA, metrics=METRICS, client=Answering(status))
    with pytest.raises(error, match=rf"^cloudwatch: errors: query total {status}: try later"):
        src.fetch("errors", Cohort.CANARY, BASE, BASE + 600)


def test_alb_target_group_metrics(moto: MotoSetup) -> None:
    alb = source(moto, cohorts=ALB, metrics=[ALB_5XX])
    [sample] = alb.fetch("5xx", Cohort.CANARY, BASE, BASE + 8 * STEP).samples
    assert sample == RatioSample(BASE + STEP, Cohort.CANARY, "5xx", total=400.0, failed=12.0)
    assert alb.fetch("5xx", Cohort.BASELINE, BASE, BASE + 8 * STEP).no_data


def test_nothing_recorded_is_no_data(moto: MotoSetup) -> None:
    src = source(moto)
    assert src.fetch("errors", Cohort.CANARY, BASE + 3600, BASE + 3700).no_data
    assert src.fetch("errors", Cohort.CANARY, BASE - 3600, BASE - 10).no_data
    # CloudWatch cannot tell a misspelt dimension from a silent function: also no data
    misspelt = {c: {**d, "FunctionName": "ap"} for c, d in LAMBDA.items()}
    assert source(moto, cohorts=misspelt).fetch("errors", Cohort.CANARY, BASE, BASE + 80).no_data


def test_an_unreachable_endpoint_is_unavailable_not_no_data() -> None:
    src = sources.create(
        "cloudwatch", cohorts=LAMBDA, metrics=METRICS, step=STEP, client=dead_client("cloudwatch")
    )
    with pytest.raises(Unavailable, match=r"^cloudwatch: get_metric_data: Could not connect"):
        src.fetch("errors", Cohort.CANARY, BASE, BASE + 80)


@pytest.mark.parametrize("status", [429, 500, 503])
def test_throttling_and_server_errors_are_unavailable(status: int) -> None:
    with answering(status, {}, b"") as stub:
        src = sources.create(
            "cloudwatch",
            cohorts=LAMBDA,
            metrics=METRICS,
            step=STEP,
            client=client_at(stub.endpoint, "cloudwatch", attempts=2),
        )
        with pytest.raises(Unavailable, match=rf"^cloudwatch: get_metric_data: .*HTTP {status}"):
            src.fetch("errors", Cohort.CANARY, BASE, BASE + 80)
    assert len(stub.requests) == 2  # botocore retried once before Sentra gave up


@pytest.mark.parametrize(
    ("config", "match"),
    [
        ({"step": 7}, "step: must be"),
        (
            {"metrics": [{"name": "p99", "kind": "latency", "namespace": "x", "buckets": "y"}]},
            "no latency samples",
        ),
        (
            {"metrics": [{"name": "e", "kind": "ratio", "namespace": "x", "total": "y"}]},
            "bad entry",
        ),
        (
            {"cohorts": {"baseline": LAMBDA["canary"], "canary": LAMBDA["canary"]}},
            "need different dimensions",
        ),
        ({"cohorts": {"canary": LAMBDA["canary"]}}, r"missing \['baseline'\]"),
    ],
)
def test_a_bad_configuration_is_refused(config: dict[str, Any], match: str) -> None:
    config = {"cohorts": LAMBDA, "metrics": METRICS, "step": STEP, **config}
    with pytest.raises(Misconfigured, match=rf"^cloudwatch: .*{match}"):
        sources.create("cloudwatch", client=dead_client("cloudwatch"), **config)


def test_an_unknown_metric_is_a_configuration_error(moto: MotoSetup) -> None:
    with pytest.raises(Misconfigured, match=r"^cloudwatch: unknown metric 'latency'"):
        source(moto).fetch("latency", Cohort.CANARY, BASE, BASE + 80)
