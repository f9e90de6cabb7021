"""Whatever telemetry the API accepts, every rollout keeps getting fresh verdicts: random lines
(huge counts included) are pushed, and after each controller round the verdict is this round's."""

from __future__ import annotations

from typing import Any

from api_helpers import Api
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from routed import backdated

METRICS = [
    {"name": "errors", "kind": "ratio", "critical": True, "tolerance": 0.2},
    {"name": "latency_ms", "kind": "latency", "tolerance": 0.2},
    {"name": "cpu", "kind": "gauge", "tolerance": 0.25},
]
counts = st.one_of(
    st.integers(0, 10**4), st.floats(0, 1e19), st.sampled_from([1e9, 1e9 + 1, 3e9, 9.3e18])
)
values = st.floats(-1e12, 1e12, allow_nan=False)


@st.composite
def line(draw: Any, t0: float) -> dict[str, Any]:
    base = {
        "ts": t0 + draw(st.floats(0, 60)),
        "cohort": draw(st.sampled_from(["baseline", "canary"])),
    }
    form = draw(st.sampled_from(["ratio", "counter", "values", "buckets", "gauge"]))
    if form in ("ratio", "counter"):
        total = draw(counts)
        failed = draw(st.floats(0, 1)) * total
        return {**base, "metric": "errors", "total": total, "failed": failed,
                "counter": form == "counter"}  # fmt: skip
    if form == "values":
        return {**base, "metric": "latency_ms", "values": draw(st.lists(values, max_size=30))}
    if form == "buckets":
        bounds = draw(st.lists(st.floats(0, 1e6), min_size=1, max_size=6, unique=True))
        cumulative = sorted(draw(st.lists(counts, min_size=len(bounds), max_size=len(bounds))))
        buckets = {repr(b): c for b, c in zip(sorted(bounds), cumulative, strict=True)}
        return {**base, "metric": "latency_ms", "buckets": {**buckets, "+Inf": cumulative[-1]}}
    return {**base, "metric": "cpu", "value": draw(values), "instance": draw(st.text(max_size=3))}


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_every_accepted_line_still_leaves_a_fresh_verdict(embedded: Api, data: Any) -> None:
    rollout = backdated(embedded, 300, metrics=METRICS)
    rid, t0 = rollout["id"], rollout["created_at"]
    for k in range(6):
        batch = data.draw(st.lists(line(t0 + 10 * k), min_size=1, max_size=8))
        embedded.post(f"/v1/rollouts/{rid}/telemetry", json={"lines": batch})
        now = t0 + 70 + 10 * k
        embedded.judge(now)
        body = embedded.get(f"/v1/rollouts/{rid}/verdict").json()
        verdict = body["verdict"]
        assert verdict is not None and verdict["ts"] == now, (body, batch)
        if body["state"] != "running":
            break
