"""Bad input gets a 4xx whose detail names the field and the problem; nothing is half-written."""

from __future__ import annotations

import time

import pytest
from api_helpers import Api, lines  # type: ignore[import-not-found]

from sentra_ml.store import telemetry_log


def _detail(response: object) -> str:
    return str(response.json()["detail"])  # type: ignore[attr-defined]


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
    assert _detail(response).startswith(field) and problem in _detail(response)
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
    assert where in [str(p) for p in response.json()["detail"][0]["loc"]]


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
    assert response.status_code == 413 and "body" in _detail(response)


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
    assert bad.status_code == 422 and "tolerance" in _detail(bad)
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
