"""Wire formats: telemetry lines and rollout specs, good and bad."""

from __future__ import annotations

import math
import re

import pytest

from sentra_ml.analysis.types.errors import SampleError, SpecError
from sentra_ml.analysis.types.samples import GaugeSample, LatencySample, RatioSample
from sentra_ml.spec import parse_line, parse_spec


def test_the_documented_line_forms_parse() -> None:
    r = parse_line(
        '{"ts": 12.0, "cohort": "canary", "metric": "errors", "total": 103, "failed": 2}'
    )
    assert isinstance(r, RatioSample) and r.failed == 2
    v = parse_line('{"ts": 12.0, "cohort": "canary", "metric": "latency_ms", "values": [1, 2.5]}')
    assert isinstance(v, LatencySample) and v.values == (1.0, 2.5)
    b = parse_line(
        '{"ts": 12.0, "cohort": "canary", "metric": "latency_ms",'
        ' "buckets": {"0.1": 40, "0.25": 90, "+Inf": 103}}'
    )
    assert isinstance(b, LatencySample) and b.buckets[-1] == (math.inf, 103.0)
    g = parse_line('{"ts": 12.0, "cohort": "baseline", "metric": "cpu", "value": 0.41}')
    assert isinstance(g, GaugeSample) and g.value == 0.41


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('{"ts": 1, "cohort": "canary", "metric": "e", "total": 1, "failed": 2}', "exceeds total"),
        ('{"ts": 1, "cohort": "canary", "metric": "e", "total": -1, "failed": 0}', "total"),
        ('{"ts": 1, "cohort": "canary", "metric": "e", "total": 1}', "failed"),
        ('{"ts": 1, "cohort": "green", "metric": "e", "value": 1}', "cohort"),
        ('{"ts": "soon", "cohort": "canary", "metric": "e", "value": 1}', "ts"),
        ('{"ts": 1, "cohort": "canary", "metric": "e", "value": 1, "values": [1]}', "exactly one"),
        ('{"ts": 1, "cohort": "canary", "metric": "l", "buckets": {"a": 1, "+Inf": 2}}', "buckets"),
        (
            '{"ts": 1, "cohort": "canary", "metric": "l", "buckets": {"1": 5, "+Inf": 2}}',
            "cumulative",
        ),
        ('{"ts": 1, "cohort": "canary", "metric": "l", "buckets": {"1": 5}}', "+Inf"),
        ('{"ts": 1, "cohort": "canary", "metric": "l", "values": [-3]}', "values"),
        ('{"ts": 1, "cohort": "canary", "metric": "e", "value": 1, "colour": "red"}', "colour"),
        ("[1, 2]", "(root)"),
    ],
)
def test_bad_lines_name_the_field(line: str, message: str) -> None:
    with pytest.raises(SampleError, match=re.escape(message)):
        parse_line(line)


def test_spec_defaults_and_errors() -> None:
    spec = parse_spec({"metrics": [{"name": "errors", "kind": "ratio", "critical": True}]})
    assert spec.alpha == 0.01 and spec.policy.steps[-1] == 100
    with pytest.raises(SpecError, match="duplicate"):
        parse_spec({"metrics": [{"name": "a", "kind": "ratio"}, {"name": "a", "kind": "gauge"}]})
    with pytest.raises(SpecError, match="last step must be 100"):
        parse_spec({"policy": {"steps": [1, 50]}, "metrics": [{"name": "a", "kind": "ratio"}]})
    with pytest.raises(SpecError, match=r"slo\.quantile"):
        parse_spec({"metrics": [{"name": "l", "kind": "latency", "slo": {"objective": 300}}]})
    with pytest.raises(SpecError, match="decrease"):
        parse_spec(
            {"metrics": [{"name": "a", "kind": "gauge", "direction": "either", "tolerance": 1.5}]}
        )
    with pytest.raises(SpecError, match="alpha"):
        parse_spec({"alpha": 0.9, "metrics": [{"name": "a", "kind": "ratio"}]})


@pytest.mark.parametrize(
    ("line", "field"),
    [
        ('{"ts": 1, "cohort": "canary", "metric": "l", "values": []}', "values"),
        ('{"ts": 1, "cohort": "canary", "metric": "l", "buckets": {}}', "buckets"),
        (
            '{"ts": 1, "cohort": "canary", "metric": "e", "total": 1, "failed": 0, "counter": 1}',
            "counter",
        ),
        ('{"ts": "1", "cohort": "canary", "metric": "e", "value": 1}', "ts"),
        ('{"ts": true, "cohort": "canary", "metric": "e", "value": 1}', "ts"),
    ],
)
def test_no_empty_values_and_no_lax_types(line: str, field: str) -> None:
    with pytest.raises(SampleError, match=re.escape(field)):
        parse_line(line)


def test_spec_booleans_and_numbers_are_strict() -> None:
    base = {"metrics": [{"name": "a", "kind": "ratio"}]}
    with pytest.raises(SpecError, match=r"policy\.adaptive"):
        parse_spec({**base, "policy": {"adaptive": 0}})
    with pytest.raises(SpecError, match=r"metrics\.0\.critical"):
        parse_spec({"metrics": [{"name": "a", "kind": "ratio", "critical": "yes"}]})
    with pytest.raises(SpecError, match="alpha"):
        parse_spec({**base, "alpha": "0.01"})
    assert parse_spec({**base, "alpha": 0.02, "policy": {"adaptive": False}}).alpha == 0.02
