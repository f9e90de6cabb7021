"""One contract for every metric analyzer the judge can build (the registry's kinds)."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest

from sentra_ml.analysis.evidence import ANALYZERS, MetricAnalyzer, make_analyzer
from sentra_ml.analysis.judge import RolloutJudge
from sentra_ml.analysis.types.errors import SampleError, SpecError
from sentra_ml.analysis.types.labels import Cohort, Direction, MetricKind, MetricStatus
from sentra_ml.analysis.types.samples import GaugeSample, LatencySample, RatioSample, Sample
from sentra_ml.analysis.types.specs import SLO, MetricSpec, RolloutSpec

Generator = Callable[[np.random.Generator, float, Cohort, float], list[Sample]]
CANARY_SHARE = 0.05
RPS = 400.0


def _count(rng: np.random.Generator, cohort: Cohort) -> int:
    share = CANARY_SHARE if cohort is Cohort.CANARY else 1 - CANARY_SHARE
    return int(rng.poisson(RPS * share * 2.0))


def ratio(rng: np.random.Generator, ts: float, cohort: Cohort, effect: float) -> list[Sample]:
    n = _count(rng, cohort)
    p = 0.01 * (1 + 0.5 * math.sin(ts / 60)) * (effect if cohort is Cohort.CANARY else 1.0)
    return [RatioSample(ts, cohort, "m", n, int(rng.binomial(n, min(p, 1.0))))]


def latency(rng: np.random.Generator, ts: float, cohort: Cohort, effect: float) -> list[Sample]:
    n = _count(rng, cohort)
    body = rng.lognormal(math.log(80), 0.5, n)
    tail = rng.random(n) < 0.03
    body[tail] *= 1 + rng.pareto(1.5, int(tail.sum()))  # heavy tail: infinite variance
    if cohort is Cohort.CANARY:
        body *= effect
    return [LatencySample(ts, cohort, "m", values=tuple(body.tolist()))]


def gauge(rng: np.random.Generator, ts: float, cohort: Cohort, effect: float) -> list[Sample]:
    instances = 1 if cohort is Cohort.CANARY else 10
    level = 0.5 * (1 + 0.3 * math.sin(ts / 100)) * (effect if cohort is Cohort.CANARY else 1.0)
    noise = 0.05 * rng.standard_t(3, instances)
    return [
        GaugeSample(ts, cohort, "m", float(level + e), instance=f"i{k}")
        for k, e in enumerate(noise)
    ]


KINDS: dict[MetricKind, tuple[MetricSpec, Generator, float]] = {
    MetricKind.RATIO: (MetricSpec("m", MetricKind.RATIO, tolerance=0.2), ratio, 3.0),
    MetricKind.LATENCY: (
        MetricSpec("m", MetricKind.LATENCY, tolerance=0.2, quantiles=(0.5, 0.99)),
        latency,
        1.6,
    ),
    MetricKind.GAUGE: (MetricSpec("m", MetricKind.GAUGE, tolerance=0.25), gauge, 1.6),
}


def test_every_kind_has_a_contract() -> None:
    assert set(KINDS) == set(ANALYZERS)


def drive(
    analyzer: MetricAnalyzer, gen: Generator, rng: np.random.Generator, ticks: int, effect: float
) -> float | None:
    """Feed `ticks` intervals; the time of the first regression label, if any."""
    for k in range(1, ticks + 1):
        ts = 2.0 * k
        for cohort in Cohort:
            for s in gen(rng, ts, cohort, effect):
                analyzer.observe(s)
        analyzer.close_interval(ts)
        if k % 3 == 0 and analyzer.evidence(ts, 15.0).status is MetricStatus.REGRESSION:
            return ts
    return None


@pytest.mark.parametrize("kind", list(KINDS), ids=str)
def test_no_more_false_regressions_than_alpha(kind: MetricKind) -> None:
    spec, gen, _ = KINDS[kind]
    rng = np.random.default_rng(17)
    alpha, runs = 0.1, 60
    alarms = sum(
        drive(make_analyzer(spec, alpha), gen, rng, ticks=90, effect=1.0) is not None
        for _ in range(runs)
    )
    assert alarms / runs <= alpha + 3 * math.sqrt(alpha * (1 - alpha) / runs)


@pytest.mark.parametrize("kind", list(KINDS), ids=str)
def test_a_clear_regression_is_found(kind: MetricKind) -> None:
    spec, gen, effect = KINDS[kind]
    rng = np.random.default_rng(5)
    found = [drive(make_analyzer(spec, 0.01), gen, rng, ticks=150, effect=effect) for _ in range(5)]
    assert all(t is not None for t in found), found


@pytest.mark.parametrize("kind", list(KINDS), ids=str)
def test_evidence_carries_effect_harm_and_words(kind: MetricKind) -> None:
    spec, gen, _ = KINDS[kind]
    analyzer = make_analyzer(spec, 0.01)
    rng = np.random.default_rng(1)
    drive(analyzer, gen, rng, ticks=30, effect=1.0)
    e = analyzer.evidence(60.0, 15.0)
    assert e.status in (MetricStatus.INCONCLUSIVE, MetricStatus.SAFE)
    assert e.effect is not None and e.effect.low <= e.effect.estimate <= e.effect.high
    assert math.isfinite(e.harm)
    assert e.summary.startswith("m: ") and "%" in e.summary
    assert 0.0 <= e.risk <= 1.0


@pytest.mark.parametrize("kind", list(KINDS), ids=str)
def test_silence_is_labelled_stale_not_guessed(kind: MetricKind) -> None:
    spec, gen, _ = KINDS[kind]
    analyzer = make_analyzer(spec, 0.01)
    rng = np.random.default_rng(2)
    drive(analyzer, gen, rng, ticks=5, effect=1.0)
    assert analyzer.evidence(10.0 + 16.0, 15.0).status is MetricStatus.STALE
    fresh = make_analyzer(spec, 0.01)
    assert fresh.evidence(5.0, 15.0).status is MetricStatus.NO_DATA


@pytest.mark.parametrize("kind", list(KINDS), ids=str)
def test_wrong_sample_kind_is_refused(kind: MetricKind) -> None:
    spec, _, _ = KINDS[kind]
    analyzer = make_analyzer(spec, 0.01)
    wrong = (
        GaugeSample(1.0, Cohort.CANARY, "m", 1.0)
        if kind is not MetricKind.GAUGE
        else RatioSample(1.0, Cohort.CANARY, "m", 1, 0)
    )
    with pytest.raises(SampleError, match="'m' is a"):
        analyzer.observe(wrong)


@pytest.mark.parametrize("kind", list(KINDS), ids=str)
def test_a_spec_of_another_kind_is_refused_naming_the_field(kind: MetricKind) -> None:
    other = next(k for k in KINDS if k is not kind)
    spec, _, _ = KINDS[other]
    with pytest.raises(SpecError, match=r"metrics\[m\]\.kind: "):
        ANALYZERS[kind](spec, 0.01)


def test_the_judge_spends_exactly_the_rollouts_alpha() -> None:
    """The false-rollback budget is split over every regression test of every metric (critical
    ones weigh twice, an SLO check a quarter) and nothing is left over or spent twice."""
    metrics = (
        MetricSpec("errors", MetricKind.RATIO, critical=True, slo=SLO(0.05)),
        MetricSpec("latency", MetricKind.LATENCY, quantiles=(0.5, 0.9, 0.99)),
        MetricSpec("cpu", MetricKind.GAUGE, direction=Direction.EITHER, tolerance=0.3),
    )
    spec = RolloutSpec(metrics=metrics, alpha=0.02)
    judge = RolloutJudge(spec)
    spent = 0.0
    for m in metrics:
        analyzer = judge.analyzers[m.name]
        tests = (len(m.quantiles) if m.kind is MetricKind.LATENCY else 1) * (
            2 if m.direction is Direction.EITHER else 1
        )
        spent += tests * analyzer.test_alpha + (analyzer.slo_alpha if m.slo else 0.0)
        assert analyzer.threshold == pytest.approx(math.log(1 / analyzer.test_alpha))
    assert spent == pytest.approx(0.02, rel=1e-12)
    errors, latency = judge.analyzers["errors"], judge.analyzers["latency"]
    assert errors.test_alpha == pytest.approx(2 * latency.test_alpha, rel=1e-12)
    assert errors.slo_alpha == pytest.approx(latency.test_alpha / 4, rel=1e-12)
