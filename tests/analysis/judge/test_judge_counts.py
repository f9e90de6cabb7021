"""Huge counts and values that the wire accepts: the judge still decides, and decides right."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest
from pydantic import ValidationError

from sentra_ml.analysis.anomaly import ServiceLearner
from sentra_ml.analysis.judge import RolloutJudge
from sentra_ml.analysis.judge.normal import service_learner
from sentra_ml.analysis.types.labels import Action, Cohort, MetricKind, MetricStatus
from sentra_ml.analysis.types.samples import MAX_MAGNITUDE, LatencySample
from sentra_ml.analysis.types.specs import SLO, MetricSpec, RolloutSpec
from sentra_ml.analysis.types.verdict import Verdict
from sentra_ml.ingest import CounterIngest
from sentra_ml.spec import TelemetryLine

SPEC = RolloutSpec(
    metrics=(
        MetricSpec("errors", MetricKind.RATIO, critical=True, slo=SLO(0.05)),
        MetricSpec("latency_ms", MetricKind.LATENCY, slo=SLO(500.0, 0.99)),
        MetricSpec("cpu", MetricKind.GAUGE),
    ),
    grace_seconds=600.0,
    stale_after_seconds=600.0,
)
COHORTS = ("baseline", "canary")
Lines = Callable[[float, str], list[dict[str, object]]]


def judge_lines(lines: Lines, learner: ServiceLearner | None, seconds: float = 120.0) -> Verdict:
    """Push `lines(t, cohort)` through the wire model and CounterIngest every 2 s, as the
    service does, and evaluate after each push; the last verdict."""
    judge = RolloutJudge(SPEC, 0.0, learner)
    ingest = CounterIngest()
    t, verdict = 0.0, judge.evaluate(0.0)
    while t < seconds and verdict.action is not Action.ROLLBACK:
        t += 2.0
        for cohort in COHORTS:
            for data in lines(t, cohort):
                sample = ingest.sample(TelemetryLine.model_validate(data))
                if sample is not None:
                    judge.observe(sample)
        verdict = judge.evaluate(t)
    return verdict


def ratio(total: float, canary_ratio: float = 0.01) -> Lines:
    def lines(t: float, cohort: str) -> list[dict[str, object]]:
        share = canary_ratio if cohort == "canary" else 0.01
        return [
            {"ts": t, "cohort": cohort, "metric": "errors", "total": total, "failed": total * share}
        ]

    return lines


def counter(step: float) -> Lines:
    """Cumulative counters that grow by `step` requests per push."""

    def lines(t: float, cohort: str) -> list[dict[str, object]]:
        total = min(step * t / 2.0, MAX_MAGNITUDE)
        return [
            {
                "ts": t,
                "cohort": cohort,
                "metric": "errors",
                "total": total,
                "failed": total / 100.0,
                "counter": True,
            }
        ]

    return lines


def buckets(count: float) -> Lines:
    def lines(t: float, cohort: str) -> list[dict[str, object]]:
        return [
            {
                "ts": t,
                "cohort": cohort,
                "metric": "latency_ms",
                "buckets": {
                    "50": count * 0.5,
                    "100": count * 0.9,
                    "250": count * 0.99,
                    "+Inf": count,
                },
            }
        ]

    return lines


def gauge(baseline: float, canary: float) -> Lines:
    def lines(t: float, cohort: str) -> list[dict[str, object]]:
        value = canary if cohort == "canary" else baseline
        return [
            {
                "ts": t,
                "cohort": cohort,
                "metric": "cpu",
                "value": value,
                "instance": f"{cohort}-{int(t) % 3}",
            }
        ]

    return lines


def healthy(count: float) -> Lines:
    """Every metric at once, equal in both cohorts."""

    def lines(t: float, cohort: str) -> list[dict[str, object]]:
        return ratio(count)(t, cohort) + buckets(count)(t, cohort) + gauge(40.0, 40.0)(t, cohort)

    return lines


HUGE = [1e9 + 1, 1e19, MAX_MAGNITUDE]  # numpy's sampler limit, past int64, the wire's bound
LEARNERS = [pytest.param(False, id="tests-only"), pytest.param(True, id="with-learner")]


def learner_if(on: bool) -> ServiceLearner | None:
    return service_learner() if on else None


@pytest.mark.parametrize("count", HUGE)
@pytest.mark.parametrize("learn", LEARNERS)
def test_a_healthy_canary_at_huge_counts_is_judged_safe(count: float, learn: bool) -> None:
    verdict = judge_lines(healthy(count), learner_if(learn), seconds=40.0)
    assert verdict.action is Action.CONTINUE, verdict.reasons
    status = {e.metric: e.status for e in verdict.evidence}
    assert status["errors"] is status["latency_ms"] is MetricStatus.SAFE
    assert verdict.anomaly is None or not (
        verdict.anomaly.baseline_flag or verdict.anomaly.canary_flag
    )


@pytest.mark.parametrize("total", HUGE)
@pytest.mark.parametrize("learn", LEARNERS)
def test_three_times_the_errors_at_huge_counts_is_rolled_back(total: float, learn: bool) -> None:
    verdict = judge_lines(ratio(total, canary_ratio=0.03), learner_if(learn))
    assert verdict.action is Action.ROLLBACK and verdict.ts <= 10.0
    assert verdict.reasons[0].startswith("errors: ratio +")


@pytest.mark.parametrize("step", [1e9 + 1, 1e19, MAX_MAGNITUDE / 100])
@pytest.mark.parametrize("learn", LEARNERS)
def test_huge_cumulative_counters_are_judged(step: float, learn: bool) -> None:
    verdict = judge_lines(counter(step), learner_if(learn))
    assert verdict.action is not Action.ROLLBACK, verdict.reasons


@pytest.mark.parametrize(
    ("baseline", "canary"),
    [
        (MAX_MAGNITUDE, MAX_MAGNITUDE),
        (-MAX_MAGNITUDE, MAX_MAGNITUDE),
        (5e-324, 1.0),
        (1e-300, 1e-300),
        (MAX_MAGNITUDE, -MAX_MAGNITUDE),
    ],
)
@pytest.mark.parametrize("learn", LEARNERS)
def test_extreme_gauge_values_are_judged(baseline: float, canary: float, learn: bool) -> None:
    verdict = judge_lines(gauge(baseline, canary), learner_if(learn))
    assert verdict.action in set(Action)


@pytest.mark.parametrize(
    ("field", "data"),
    [
        ("total", {"total": 2 * MAX_MAGNITUDE, "failed": 1.0}),
        ("failed", {"total": 1.0, "failed": 1e300}),
        ("value", {"value": -1e300}),
        ("values.1", {"values": [1.0, 1e300]}),
        ("buckets.+Inf", {"buckets": {"1": 1.0, "+Inf": 1e300}}),
        ("buckets", {"buckets": {"1e300": 1.0, "+Inf": 2.0}}),
    ],
)
def test_the_wire_refuses_numbers_beyond_the_bound_naming_the_field(
    field: str, data: dict[str, object]
) -> None:
    with pytest.raises(ValidationError) as err:
        TelemetryLine.model_validate({"ts": 1.0, "cohort": "canary", "metric": "m", **data})
    first = err.value.errors()[0]
    assert ".".join(str(p) for p in first["loc"]) == field
    assert "1e+100" in first["msg"]


def test_many_huge_buckets_never_count_more_below_an_edge_than_in_all() -> None:
    """sum() and the running sums round differently past 2^53: the tables take the latter."""
    spec = RolloutSpec(metrics=(MetricSpec("lat", MetricKind.LATENCY, quantiles=(0.5, 0.99)),))
    rng = np.random.default_rng(0)
    edges = [float(e) for e in range(1, 35)] + [math.inf]
    for _ in range(30):
        judge = RolloutJudge(spec)
        for t in (1.0, 2.0, 3.0):
            for cohort in Cohort:
                cumulative = np.cumsum(rng.uniform(0, 1e17, size=len(edges)).round()).tolist()
                buckets = tuple(zip(edges, cumulative, strict=True))
                judge.observe(LatencySample(t, cohort, "lat", buckets=buckets))
            assert judge.evaluate(t).action in set(Action)
