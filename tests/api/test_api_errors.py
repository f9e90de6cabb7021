"""Error answers have one documented shape: `{"detail": "field.path: problem"}`, and a 422 adds
the same problems as a validation-error array in `errors`; the OpenAPI document lists every
status the service gives."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from api_helpers import Api  # type: ignore[import-not-found]

from sentra_ml.store import tokens
from sentra_ml.store.tokens import Role

JSON_BODIES = [
    ("post", "/v1/rollouts"),
    ("post", "/v1/rollouts/{rollout_id}/telemetry"),
    ("post", "/v1/rollouts/{rollout_id}/actions"),
    ("post", "/v1/verdicts"),
    ("post", "/v1/tokens"),
    ("put", "/v1/policies/{name}"),
    ("post", "/v1/integrations/flagger/{hook}"),
]


def _line() -> dict[str, Any]:
    return {"ts": time.time(), "cohort": "canary", "metric": "errors", "total": 1, "failed": 0}


@pytest.mark.parametrize("media", ["text/plain", "application/x-www-form-urlencoded", None])
def test_a_json_route_refuses_other_media_types_with_415(api: Api, media: str | None) -> None:
    rid = api.create()["id"]
    headers = {} if media is None else {"content-type": media}
    body = json.dumps({"lines": [_line()]})
    response = api.post(f"/v1/rollouts/{rid}/telemetry", content=body, headers=headers)
    assert response.status_code == 415, response.text
    assert response.json()["detail"].startswith("content-type: application/json")


def test_every_422_says_the_field_in_detail_and_lists_the_errors(api: Api) -> None:
    rid = api.create()["id"]
    unknown = api.post(
        f"/v1/rollouts/{rid}/telemetry", json={"lines": [{**_line(), "metric": "nope"}]}
    )
    missing = api.post(
        "/v1/rollouts",
        json={"service": "s", "baseline_version": "a", "canary_version": "b", "policy_name": "no"},
    )
    schema = api.post(f"/v1/rollouts/{rid}/telemetry", json={"lines": [{"ts": "soon"}]})
    for response in (unknown, missing, schema):
        assert response.status_code == 422
        body = response.json()
        assert set(body) == {"detail", "errors"} and isinstance(body["detail"], str)
        for error in body["errors"]:
            assert set(error) == {"loc", "msg", "type"} and error["loc"][0] == "body"
    assert unknown.json()["detail"].startswith("lines.0.metric: unknown metric 'nope'")
    assert unknown.json()["errors"][0]["loc"] == ["body", "lines", 0, "metric"]
    assert missing.json() == {
        "detail": "policy_name: no policy 'no'",
        "errors": [
            {"loc": ["body", "policy_name"], "msg": "no policy 'no'", "type": "value_error"}
        ],
    }


def test_typos_and_missing_fields_read_like_every_other_error(api: Api) -> None:
    rid = api.create()["id"]
    cohort = api.post(
        f"/v1/rollouts/{rid}/telemetry", json={"lines": [{**_line(), "cohort": "canray"}]}
    )
    assert cohort.json()["detail"] == (
        "lines.0.cohort: Input should be 'baseline' or 'canary', got 'canray'"
    )
    reason = api.post(f"/v1/rollouts/{rid}/actions", json={"action": "pause"})
    assert reason.status_code == 422 and reason.json()["detail"] == "reason: Field required"
    state = api.get("/v1/rollouts?state=runing")
    assert state.status_code == 422 and state.json()["detail"].startswith("state: Input should")
    unknown = api.get("/v1/rollouts/nope")
    assert unknown.status_code == 404 and set(unknown.json()) == {"detail"}
    assert unknown.json()["detail"] == "rollout_id: no rollout 'nope'"


def test_a_ts_in_milliseconds_says_so(api: Api) -> None:
    rid = api.create()["id"]
    for factor, unit in ((1e3, "milliseconds"), (1e6, "microseconds"), (1e9, "nanoseconds")):
        line = {**_line(), "ts": time.time() * factor}
        response = api.post(f"/v1/rollouts/{rid}/telemetry", json={"lines": [line]})
        assert response.status_code == 422
        assert response.json()["detail"] == f"lines.0.ts: looks like {unit}; ts are unix seconds"


def test_the_openapi_document_lists_every_status(api: Api) -> None:
    paths = api.get("/openapi.json", role=None).json()["paths"]
    for path, operations in paths.items():
        for method, operation in operations.items():
            codes = set(operation["responses"])
            if path in ("/healthz", "/metrics"):
                assert "503" not in codes
                continue
            assert {"413", "503"} <= codes, (method, path)
            if operation.get("security"):
                assert {"401", "403"} <= codes, (method, path)
            if "422" in codes:
                ref = operation["responses"]["422"]["content"]["application/json"]["schema"]
                assert ref["$ref"].endswith("/ValidationErrorOut"), (method, path)
            if (method, path) in JSON_BODIES:
                assert {"400", "415", "422"} <= codes, (method, path)
    for method, path in [
        ("post", "/v1/tokens"),
        ("delete", "/v1/tokens/{token_id}"),
        ("post", "/v1/rollouts/{rollout_id}/telemetry"),
        ("post", "/v1/rollouts/{rollout_id}/actions"),
    ]:
        assert "409" in paths[path][method]["responses"], (method, path)


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("DELETE", "/v1/tokens", {"GET", "POST"}),
        ("PATCH", "/v1/rollouts", {"GET", "POST"}),
        ("DELETE", "/v1/rollouts/x", {"GET"}),
        ("GET", "/v1/tokens/1", {"DELETE"}),
        ("POST", "/v1/policies/p", {"GET", "PUT"}),
    ],
)
def test_405_names_every_allowed_method(api: Api, method: str, path: str, allowed: set) -> None:
    response = api.client.request(method, path, headers=api.headers(Role.ADMIN))
    assert response.status_code == 405
    assert set(response.headers["allow"].replace(" ", "").split(",")) == allowed
    assert response.json()["detail"]


def test_a_token_cannot_revoke_itself(api: Api) -> None:
    with api.app.state.services.sessions() as session:
        row = tokens.find_active(session=session, secret=api.secrets[Role.ADMIN])
        assert row is not None
        mine = row.id
    refused = api.client.delete(f"/v1/tokens/{mine}", headers=api.headers(Role.ADMIN))
    assert refused.status_code == 409 and "token_id" in refused.json()["detail"]
    assert api.get("/v1/tokens", role=Role.ADMIN).status_code == 200  # still works


def test_counter_applies_only_to_total_and_failed(api: Api) -> None:
    rid = api.create()["id"]
    buckets = {**_line(), "metric": "latency_ms", "buckets": {"100": 1, "+Inf": 2}}
    del buckets["total"], buckets["failed"]
    response = api.post(
        f"/v1/rollouts/{rid}/telemetry", json={"lines": [{**buckets, "counter": True}]}
    )
    assert response.status_code == 422
    assert response.json()["detail"].startswith(
        "lines.0.counter: only total/failed readings take counter: true, got buckets"
    )
