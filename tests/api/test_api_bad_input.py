"""Bad input gets a 4xx whose detail names the field and the problem; nothing is half-written."""

from __future__ import annotations

import json
import time

import pytest
from api_helpers import METRICS, Api, detail_text, lines  # type: ignore[import-not-found]

from sentra_ml.store import telemetry_log


@pytest.mark.parametrize(
    ("line", "field", "problem"),
    [
        ({"metric": "nope", "total": 1, "failed": 0}, "lines.1.metric", "unknown metric"),
        ({"metric": "errors", "total": 5, "failed": 9}, "lines.1.failed", "exceeds total"),
        ({"metric": "errors", "value": 3.0}, "lines.1", "takes total/failed"),
        ({"metric": "latency_ms", "total": 1, "failed": 0}, "lines.1", "takes values or buckets"),
        ({"metric": "errors", "total": 1, "failed": 0, "ts": 9e12}, "lines.1.ts", "future"),
        ({"metric": "errors", "total": 1, "failed": 0, "ts": 12.0}, "lines.1.ts", "unix seconds"),
    ],
)
def test_a_bad_line_refuses_the_whole_batch(api: Api, line: dict, field: str, problem: str) -> None:
    rid = api.create()["id"]
    now = time.time()
    good = {"ts": now, "cohort": "canary", "metric": "errors", "total": 10, "failed": 0}
    bad = {"ts": now, "cohort": "baseline", **line}
    response = api.post(f"/v1/rollouts/{rid}/telemetry", json={"lines": [good, bad]})
    assert response.status_code == 422
    assert detail_text(response).startswith(field) and problem in detail_text(response)
    read = telemetry_log.read(api.app.state.services.bus, rid, None, 0)
    assert read.entries == []  # not even the good line


@pytest.mark.parametrize(
    ("line", "where"),
    [
        ({"cohort": "middle"}, "cohort"),
        ({"total": -1}, "total"),
        ({"ts": "soon"}, "ts"),
        ({"extra": 1}, "extra"),
    ],
)
def test_schema_errors_name_the_field(api: Api, line: dict, where: str) -> None:
    rid = api.create()["id"]
    body = {"ts": time.time(), "cohort": "canary", "metric": "errors", "total": 1, "failed": 0}
    body.update(line)
    response = api.post(f"/v1/rollouts/{rid}/telemetry", json={"lines": [body]})
    assert response.status_code == 422
    assert where in [str(p) for p in response.json()["errors"][0]["loc"]]


def test_nan_malformed_json_and_empty_batches_are_refused(api: Api) -> None:
    rid = api.create()["id"]
    url = f"/v1/rollouts/{rid}/telemetry"
    nan = f'{{"lines": [{{"ts": {time.time()}, "cohort": "canary", "metric": "errors", '
    nan += '"total": NaN, "failed": 0}]}'
    for content in (nan, '{"lines": [', "[]", '{"lines": []}'):
        response = api.post(url, content=content, headers={"content-type": "application/json"})
        assert response.status_code == 422, (content, response.text)


def test_oversized_bodies_get_413(api: Api) -> None:
    rid = api.create()["id"]
    limit = api.app.state.services.settings.max_body_bytes
    response = api.post(
        f"/v1/rollouts/{rid}/telemetry",
        content=b"{" + b" " * limit + b"}",
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 413 and "body" in response.json()["detail"]


def test_unknown_ids_are_404_and_bad_specs_422(api: Api) -> None:
    assert api.get("/v1/rollouts/nope").status_code == 404
    assert api.get("/v1/rollouts/nope/verdict").status_code == 404
    assert api.get("/v1/rollouts/nope/events").status_code == 404
    pushed = api.post("/v1/rollouts/nope/telemetry", json={"lines": lines(time.time(), 1, 0)})
    assert pushed.status_code == 404
    acted = api.post("/v1/rollouts/nope/actions", json={"action": "pause", "reason": "x"})
    assert acted.status_code == 404
    bad = api.post(
        "/v1/rollouts",
        json={
            "service": "s", "baseline_version": "a", "canary_version": "b",
            "metrics": [{"name": "m", "kind": "ratio", "direction": "decrease", "tolerance": 2}],
        },
    )  # fmt: skip
    assert bad.status_code == 422 and "tolerance" in detail_text(bad)
    both = api.post(
        "/v1/rollouts",
        json={"service": "s", "baseline_version": "a", "canary_version": "b", "policy_name": "x",
              "metrics": [{"name": "m", "kind": "ratio"}]},
    )  # fmt: skip
    assert both.status_code == 422
    empty_reason = api.post(
        f"/v1/rollouts/{api.create()['id']}/actions", json={"action": "pause", "reason": ""}
    )
    assert empty_reason.status_code == 422


def _nested(depth: int, kind: str = "nginx") -> dict:
    out: dict = {"end": True}
    for _ in range(depth - 2):
        out = {"next": out}
    return {"kind": kind, "next": out}


@pytest.mark.parametrize(
    ("field", "value", "problem"),
    [
        ("target", _nested(32), "deeper than 8"),
        ("source", _nested(9, "prometheus"), "deeper than 8"),
        ("target", {"kind": "nginx", "blob": "x" * 20_000}, "16384 bytes"),
    ],
)
def test_free_objects_are_bounded_in_depth_and_size(
    api: Api, field: str, value: dict, problem: str
) -> None:
    body = {"service": "s", "baseline_version": "a", "canary_version": "b", "metrics": METRICS}
    response = api.post("/v1/rollouts", json={**body, field: value})
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["loc"] == ["body", field]
    assert problem in detail_text(response)
    limit = _nested(8, "nginx" if field == "target" else "prometheus")
    assert api.create(**{field: limit})[field] == limit  # the limit itself is taken


def test_a_free_object_with_nan_is_refused(api: Api) -> None:
    body = {"service": "s", "baseline_version": "a", "canary_version": "b", "metrics": METRICS}
    content = json.dumps({**body, "target": {"kind": "nginx", "weight": "W"}}).replace('"W"', "NaN")
    response = api.post(
        "/v1/rollouts", content=content, headers={"content-type": "application/json"}
    )
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["loc"] == ["body", "target"]


def test_a_chunked_body_over_the_limit_gets_413(api: Api) -> None:
    rid = api.create()["id"]
    limit = api.app.state.services.settings.max_body_bytes
    chunks = iter([b'{"lines": [', b" " * limit, b"]}"])  # no content-length: chunked
    response = api.post(
        f"/v1/rollouts/{rid}/telemetry",
        content=chunks,
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 413, response.text
    assert "body" in response.json()["detail"]


@pytest.mark.parametrize(
    ("fields", "loc"),
    [
        ({"policy": {"adaptive": 0}}, ["body", "policy", "adaptive"]),
        ({"metrics": [{"name": "e", "kind": "ratio", "critical": 1}]}, ["body", "metrics", 0]),
        ({"metrics": [{"name": "e", "kind": "ratio", "critical": "yes"}]}, ["body", "metrics"]),
    ],
)
def test_booleans_are_strict(api: Api, fields: dict, loc: list) -> None:
    body = {"service": "s", "baseline_version": "a", "canary_version": "b", "metrics": METRICS}
    response = api.post("/v1/rollouts", json={**body, **fields})
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["loc"][: len(loc)] == loc
    assert response.json()["errors"][0]["type"] == "bool_type"


def test_a_counter_flag_must_be_a_boolean(api: Api) -> None:
    rid = api.create()["id"]
    line = {"ts": time.time(), "cohort": "canary", "metric": "errors", "total": 1, "failed": 0}
    response = api.post(f"/v1/rollouts/{rid}/telemetry", json={"lines": [{**line, "counter": 1}]})
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["body", "lines", 0, "counter"]


@pytest.mark.parametrize("form", [{"values": []}, {"buckets": {}}])
def test_a_latency_line_without_values_is_refused(api: Api, form: dict) -> None:
    rid = api.create()["id"]
    line = {"ts": time.time(), "cohort": "canary", "metric": "latency_ms", **form}
    response = api.post(f"/v1/rollouts/{rid}/telemetry", json={"lines": [line]})
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["loc"] == ["body", "lines", 0, *form]


@pytest.mark.parametrize(
    ("line", "field"),
    [
        ({"ts": 1e308}, "lines.0.ts"),
        ({"ts": -1e308}, "lines.0.ts"),
        ({"metric": "m" * 300}, "lines.0.metric"),
        ({"buckets": {"x" * 300: 1.0}, "total": None, "failed": None}, "lines.0.buckets"),
        ({"y" * 300: 1}, "lines.0"),
    ],
)
def test_errors_do_not_echo_the_input(api: Api, line: dict, field: str) -> None:
    rid = api.create()["id"]
    body = {"ts": time.time(), "cohort": "canary", "metric": "errors", "total": 1, "failed": 0}
    body = {k: v for k, v in {**body, **line}.items() if v is not None}
    response = api.post(f"/v1/rollouts/{rid}/telemetry", json={"lines": [body]})
    assert response.status_code == 422, response.text
    text = detail_text(response)
    assert text.startswith(field), text
    assert len(text) < 300 and "0000000000" not in text
    assert not any(c * 41 in response.text for c in "mxy")  # at most 40 characters of a value
