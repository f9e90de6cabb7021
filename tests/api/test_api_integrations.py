"""Flagger webhooks and the Argo Rollouts `web` metric provider, answered from the verdict."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from types import SimpleNamespace

import pytest
from api_helpers import Api, lines, settings_for, start  # type: ignore[import-not-found]

from sentra_ml.api.routes import integrations
from sentra_ml.store.tokens import Role


def _canary(api: Api, canary_failed: int) -> tuple[str, str]:
    name = f"podinfo-{uuid.uuid4().hex[:6]}"
    rid = api.create(name, namespace="test")["id"]
    now = time.time()
    api.post(f"/v1/rollouts/{rid}/telemetry", json={"lines": lines(now - 30, 15, canary_failed)})
    api.judge(now)
    return name, rid


def _hook(api: Api, hook: str, name: str) -> int:
    body = {"name": name, "namespace": "test", "phase": "Progressing", "metadata": {}}
    return int(
        api.post(f"/v1/integrations/flagger/{hook}", role=Role.VIEWER, json=body).status_code
    )


def test_flagger_hooks_on_a_healthy_canary(api: Api) -> None:
    name, _ = _canary(api, canary_failed=1)
    assert _hook(api, "pre-rollout", name) == 200
    assert _hook(api, "rollout", name) == 200
    assert _hook(api, "confirm-traffic-increase", name) == 200
    assert _hook(api, "rollback", name) == 412  # no reason to roll back


def test_flagger_hooks_on_a_regressed_canary(api: Api) -> None:
    name, _ = _canary(api, canary_failed=9)
    assert _hook(api, "rollout", name) == 412
    assert _hook(api, "confirm-traffic-increase", name) == 412
    assert _hook(api, "confirm-promotion", name) == 412
    assert _hook(api, "rollback", name) == 200  # roll back now


def test_flagger_unknown_canary_and_unknown_hook(api: Api) -> None:
    assert _hook(api, "rollout", "never-registered") == 404
    assert _hook(api, "post-rollout", "x") == 422


def test_argo_web_provider_results(api: Api) -> None:
    good, _ = _canary(api, canary_failed=1)
    bad, _ = _canary(api, canary_failed=9)
    ok = api.get(f"/v1/integrations/argo/test/{good}").json()["result"]
    assert ok["verdict"] == "pass" and ok["state"] == "running"
    failed = api.get(f"/v1/integrations/argo/test/{bad}").json()["result"]
    assert failed["verdict"] == "fail" and failed["reasons"]
    missing = api.get("/v1/integrations/argo/test/nothing")
    assert missing.status_code == 404
    assert missing.json()["detail"].startswith(
        "rollout: no rollout with namespace 'test' and service 'nothing'; "
        "register one with POST /v1/rollouts"
    )


def test_argo_inconclusive_when_telemetry_stops(api: Api) -> None:
    name = f"quiet-{uuid.uuid4().hex[:6]}"
    rollout = api.create(name, namespace="test", stale_after_seconds=5, grace_seconds=600)
    api.judge(rollout["created_at"] + 10)
    result = api.get(f"/v1/integrations/argo/test/{name}").json()["result"]
    assert result["verdict"] == "inconclusive" and result["action"] == "pause"


def test_token_in_the_query_string(api: Api) -> None:
    name, _ = _canary(api, canary_failed=1)
    url = f"/v1/integrations/argo/test/{name}?token={api.secrets[Role.VIEWER]}"
    assert api.client.get(url).status_code == 200
    assert api.client.get(f"/v1/integrations/argo/test/{name}").status_code == 401


@pytest.mark.parametrize("backend", ["embedded"])
def test_hmac_signed_webhooks(backend: str, tmp_path, request) -> None:  # type: ignore[no-untyped-def]
    settings = settings_for(backend, tmp_path, request).model_copy(update={"webhook_secret": "s3"})
    for api in start(settings):
        name, _ = _canary(api, canary_failed=1)
        body = json.dumps({"name": name, "namespace": "test"}).encode()
        signature = "sha256=" + hmac.new(b"s3", body, hashlib.sha256).hexdigest()
        url = "/v1/integrations/flagger/rollout"
        headers = {"content-type": "application/json"}
        signed = api.client.post(
            url, content=body, headers={**headers, "X-Sentra-Signature": signature}
        )
        assert signed.status_code == 200
        forged = api.client.post(
            url, content=body, headers={**headers, "X-Sentra-Signature": "sha256=00"}
        )
        assert forged.status_code == 401 and "signature" in forged.json()["detail"]


def test_a_stale_verdict_never_passes(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    name, _ = _canary(api, canary_failed=1)
    fresh = api.get(f"/v1/integrations/argo/test/{name}").json()["result"]
    assert fresh["verdict"] == "pass" and 0.0 <= fresh["age_seconds"] < 15
    later = time.time() + 16  # the judge made no verdict since (stale_after_seconds is 15)
    monkeypatch.setattr(integrations, "time", SimpleNamespace(time=lambda: later))
    stale = api.get(f"/v1/integrations/argo/test/{name}").json()["result"]
    assert stale["verdict"] == "inconclusive" and stale["age_seconds"] > 15
    body = {"name": name, "namespace": "test"}
    for hook in ("rollout", "confirm-traffic-increase", "confirm-promotion", "rollback"):
        answer = api.post(f"/v1/integrations/flagger/{hook}", role=Role.VIEWER, json=body)
        assert answer.status_code == 412, hook
        assert answer.json()["age_seconds"] > 15 and "old" in answer.json()["reason"]


def test_a_hold_refuses_flaggers_traffic_increase_and_argos_step(api: Api) -> None:
    """The judge holds when the evidence does not yet bound the harm of more traffic: Flagger
    must not step up (412), Argo's result says no more traffic, nothing regressed."""
    name = f"podinfo-{uuid.uuid4().hex[:6]}"
    rid = api.create(name, namespace="test")["id"]
    now = time.time()
    api.post(f"/v1/rollouts/{rid}/telemetry", json={"lines": lines(now - 10, 18, 1)})
    api.judge(now + 12)  # past the step's minimum time: the exposure gate decides
    verdict = api.get(f"/v1/rollouts/{rid}/verdict").json()["verdict"]
    assert verdict["hold"] and "does not yet bound the harm" in verdict["reasons"][-1]
    body = {"name": name, "namespace": "test", "phase": "Progressing", "metadata": {}}
    answer = api.post(
        "/v1/integrations/flagger/confirm-traffic-increase", role=Role.VIEWER, json=body
    )
    assert answer.status_code == 412
    assert "does not yet bound the harm" in answer.json()["reason"]
    assert answer.json()["detail"].startswith("confirm-traffic-increase: judge says continue")
    assert _hook(api, "rollout", name) == 200  # no regression: Flagger counts no failure
    assert _hook(api, "confirm-promotion", name) == 412
    result = api.get(f"/v1/integrations/argo/test/{name}").json()["result"]
    assert result["verdict"] == "pass" and result["more_traffic"] is False
