"""Whatever lines the wire accepts, the judge answers: `evaluate` never raises and always returns
a verdict that serializes, with or without the service learner."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sentra_ml.analysis.anomaly import ServiceLearner
from sentra_ml.analysis.judge import RolloutJudge
from sentra_ml.analysis.judge.normal import service_learner
from sentra_ml.analysis.types.errors import SampleError
from sentra_ml.analysis.types.labels import Action, Direction, MetricKind
from sentra_ml.analysis.types.samples import MAX_MAGNITUDE
from sentra_ml.analysis.types.specs import SLO, MetricSpec, RolloutSpec
from sentra_ml.analysis.types.verdict import Verdict
from sentra_ml.ingest import CounterIngest
from sentra_ml.spec import TelemetryLine

SPEC = RolloutSpec(
    metrics=(
        MetricSpec("errors", MetricKind.RATIO, critical=True, slo=SLO(0.05)),
        MetricSpec("latency_ms", MetricKind.LATENCY, Direction.EITHER, slo=SLO(300.0, 0.99)),
        MetricSpec("cpu", MetricKind.GAUGE, Direction.EITHER),
    ),
    stale_after_seconds=20.0,
    grace_seconds=30.0,
)
EDGES = [0.0, 5e-324, 1e-300, 0.5, 1.0, 199.0, 1e9 + 1, 2.0**53, 1e19, 1e40, MAX_MAGNITUDE]

counts = st.one_of(
    st.sampled_from(EDGES), st.floats(0.0, MAX_MAGNITUDE), st.integers(0, 10**6).map(float)
)
signed = st.one_of(counts, counts.map(lambda x: -x), st.floats(-MAX_MAGNITUDE, MAX_MAGNITUDE))
cohorts = st.sampled_from(["baseline", "canary"])


@st.composite
def ratio_line(draw: st.DrawFn) -> dict[str, Any]:
    total = draw(counts)
    failed = draw(st.one_of(st.floats(0.0, 1.0).map(lambda f: f * total), counts))
    return {"metric": "errors", "total": total, "failed": failed, "counter": draw(st.booleans())}


@st.composite
def bucket_line(draw: st.DrawFn, bounds: list[str]) -> dict[str, Any]:
    share = MAX_MAGNITUDE / len(bounds)  # keeps the cumulative counts within the bound
    increments = draw(st.lists(st.floats(0.0, share), min_size=len(bounds), max_size=len(bounds)))
    running, cumulative = 0.0, {}
    for le, inc in zip(bounds, increments, strict=True):
        running = min(running + inc, MAX_MAGNITUDE)
        cumulative[le] = running
    return {"metric": "latency_ms", "buckets": cumulative}


def value_line(values: list[float]) -> dict[str, Any]:
    return {"metric": "latency_ms", "values": values}


@st.composite
def rollouts(draw: st.DrawFn) -> list[tuple[float, list[dict[str, Any]]]]:
    """Ticks of (seconds since the last evaluation, lines); one latency form per rollout, one
    set of bucket bounds, as the service insists."""
    if draw(st.booleans()):
        finite = draw(st.lists(st.floats(1e-300, MAX_MAGNITUDE), min_size=1, max_size=40))
        bounds = [repr(b) for b in sorted(set(finite))] + ["+Inf"]
        latency = bucket_line(bounds)
    else:
        latency = st.lists(counts, min_size=1, max_size=6).map(value_line)  # the wire wants one
    gauge = st.builds(
        lambda value, instance: {"metric": "cpu", "value": value, "instance": instance},
        signed,
        st.sampled_from(["", "a", "b"]),
    )
    line = st.tuples(st.one_of(ratio_line(), latency, gauge), cohorts)
    tick = st.tuples(st.sampled_from([0.0, 1.0, 2.0, 10.0, 45.0]), st.lists(line, max_size=6))
    ticks = draw(st.lists(tick, min_size=1, max_size=6))
    late = st.one_of(st.floats(-30.0, 5.0), st.floats(allow_nan=False, allow_infinity=False))
    out, now = [], 0.0
    for dt, lines in ticks:
        now += dt
        stamped = []
        for data, cohort in lines:
            ts = now + draw(st.sampled_from([0.0, -1.0])) if draw(st.booleans()) else draw(late)
            if not math.isfinite(ts):
                ts = now
            stamped.append({"ts": ts, "cohort": cohort, **data})
        out.append((dt, stamped))
    return out


def warm_learner() -> ServiceLearner:
    """A learner past its warm-up, so that windows are scored and may be flagged."""
    learner = service_learner()
    for i in range(learner.config.warmup + 10):
        learner.learn_one(
            {
                "errors.ratio": 0.01 + 0.001 * (i % 3),
                "latency_ms.p50.log": math.log1p(100.0 + i % 7),
                "latency_ms.p99.log": math.log1p(250.0 + i % 11),
            },
            ts=-3600.0 + 10.0 * i,
        )
    return learner


def judge(ticks: list[tuple[float, list[dict[str, Any]]]], learner: ServiceLearner | None) -> None:
    judge = RolloutJudge(SPEC, 0.0, learner)
    ingest = CounterIngest()
    now = 0.0
    for dt, lines in ticks:
        now += dt
        for data in lines:
            line = TelemetryLine.model_validate(data)  # the wire accepts every generated line
            try:
                sample = ingest.sample(line)
            except SampleError:
                continue  # refused before the judge, naming the field (failed > total)
            if sample is not None:
                judge.observe(sample)
        verdict = judge.evaluate(now)
        assert isinstance(verdict, Verdict) and verdict.action in set(Action)
        json.dumps(verdict.to_dict(), allow_nan=False)


@pytest.mark.parametrize("learn", [False, True], ids=["tests-only", "with-learner"])
@settings(
    max_examples=15,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(ticks=rollouts())
def test_evaluate_always_returns_a_verdict(
    learn: bool, ticks: list[tuple[float, list[dict[str, Any]]]]
) -> None:
    judge(ticks, warm_learner() if learn else None)
