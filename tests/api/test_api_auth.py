"""Tokens and roles: nothing but health and metrics answers without a token."""

from __future__ import annotations

from api_helpers import Api  # type: ignore[import-not-found]

from sentra_ml.store.tokens import Role


def test_only_health_and_metrics_are_open(api: Api) -> None:
    for path in ("/healthz", "/readyz", "/metrics"):
        assert api.get(path, role=None).status_code == 200, path
    for path in ("/v1/rollouts", "/v1/tokens", "/v1/policies/x"):
        response = api.get(path, role=None)
        assert response.status_code == 401 and "token" in response.json()["detail"]
    wrong = api.client.get("/v1/rollouts", headers={"Authorization": "Bearer sentra_nope"})
    assert wrong.status_code == 401


def test_roles_are_ordered(api: Api) -> None:
    body = {"service": "s", "baseline_version": "a", "canary_version": "b",
            "metrics": [{"name": "m", "kind": "ratio"}]}  # fmt: skip
    denied = api.post("/v1/rollouts", role=Role.VIEWER, json=body)
    assert denied.status_code == 403 and "operator" in denied.json()["detail"]
    assert api.post("/v1/rollouts", role=Role.OPERATOR, json=body).status_code == 201
    assert api.get("/v1/tokens", role=Role.OPERATOR).status_code == 403
    assert api.get("/v1/tokens", role=Role.ADMIN).status_code == 200


def test_tokens_are_shown_once_stored_hashed_and_revocable(api: Api) -> None:
    made = api.post("/v1/tokens", role=Role.ADMIN, json={"name": "ci-bot", "role": "operator"})
    assert made.status_code == 201
    secret, token_id = made.json()["token"], made.json()["id"]
    listed = api.get("/v1/tokens", role=Role.ADMIN).json()
    assert all("token" not in t for t in listed)
    assert (
        api.post(
            "/v1/tokens", role=Role.ADMIN, json={"name": "ci-bot", "role": "viewer"}
        ).status_code
        == 409
    )
    as_bot = {"Authorization": f"Bearer {secret}"}
    assert api.client.get("/v1/rollouts", headers=as_bot).status_code == 200
    revoked = api.client.delete(f"/v1/tokens/{token_id}", headers=api.headers(Role.ADMIN))
    assert revoked.status_code == 200 and revoked.json()["revoked_at"] is not None
    assert api.client.get("/v1/rollouts", headers=as_bot).status_code == 401
    from sentra_ml.store.schema import ApiToken

    with api.app.state.services.sessions() as session:
        row = session.get(ApiToken, token_id)
        assert row is not None and secret not in row.token_hash and len(row.token_hash) == 64


def test_every_mutation_is_attributed(api: Api) -> None:
    rid = api.create()["id"]
    trail = api.get(f"/v1/rollouts/{rid}/events").json()["items"]
    assert trail[0]["actor"].startswith("token:t-operator")
