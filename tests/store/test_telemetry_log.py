"""The telemetry log gives back the lines it was given, of every form, as the API took them."""

from __future__ import annotations

import math

from sentra_ml.analysis.types.labels import Cohort
from sentra_ml.spec import TelemetryLine
from sentra_ml.store import telemetry_log
from sentra_ml.store.bus import InProcessBus

PUSHED = [
    '{"ts": 5, "cohort": "canary", "metric": "errors", "total": 10, "failed": 1}',
    '{"ts": 6.5, "cohort": "baseline", "metric": "errors", "total": 1e100, "failed": 0,'
    ' "counter": true, "instance": "pod-1"}',
    '{"ts": 7, "cohort": "canary", "metric": "latency", "values": [0.1, 2, 1e-9]}',
    '{"ts": 8, "cohort": "baseline", "metric": "latency", "buckets": {"0.1": 1, "+Inf": 3}}',
    '{"ts": 9, "cohort": "canary", "metric": "cpu", "value": -0.0, "instance": "i-1"}',
]


def test_lines_come_back_equal_with_their_types_and_samples() -> None:
    bus = InProcessBus()
    lines = [TelemetryLine.model_validate_json(text) for text in PUSHED]
    assert telemetry_log.append(bus, "r1", lines)
    read = telemetry_log.read(bus, "r1", None, 0)
    (batch,) = read.entries
    assert batch == lines
    for got, sent in zip(batch, lines, strict=True):
        assert got.model_dump() == sent.model_dump()
        assert type(got.cohort) is Cohort
        assert all(
            type(getattr(got, f)) is type(getattr(sent, f)) for f in TelemetryLine.model_fields
        )
        if not got.counter:
            assert got.to_sample() == sent.to_sample()
    gauge = batch[-1].value
    assert gauge is not None and math.copysign(1.0, gauge) == -1.0  # -0.0 stays -0.0
