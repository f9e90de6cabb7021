"""Helpers for the service tests: an API client with a token per role, telemetry, set-up on both
backends. Judging is driven by the test (`Api.judge`: one round of a controller sharing the
API's database and bus) rather than a background loop."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import redis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sentra_controller.controller import Controller

from sentra_ml.api.app import create_app
from sentra_ml.api.errors import as_text
from sentra_ml.compose import controller_on
from sentra_ml.settings import Settings
from sentra_ml.store import keys, tokens
from sentra_ml.store.tokens import Role

METRICS = [
    {"name": "errors", "kind": "ratio", "critical": True, "tolerance": 0.2},
    {"name": "latency_ms", "kind": "latency", "tolerance": 0.2},
]


@dataclass
class Api:
    """A test client with one token per role; `as_(role)` picks the caller."""

    app: FastAPI
    client: TestClient
    secrets: dict[Role, str]
    controller: Controller

    def headers(self, role: Role | None) -> dict[str, str]:
        return {} if role is None else {"Authorization": f"Bearer {self.secrets[role]}"}

    def get(self, path: str, role: Role | None = Role.VIEWER, **kw: Any) -> Any:
        headers = {**self.headers(role), **kw.pop("headers", {})}
        return self.client.get(path, headers=headers, **kw)

    def post(self, path: str, role: Role | None = Role.OPERATOR, **kw: Any) -> Any:
        headers = {**self.headers(role), **kw.pop("headers", {})}
        return self.client.post(path, headers=headers, **kw)

    def judge(self, now: float | None = None) -> int:
        return self.controller.run_round(time.time() if now is None else now)

    def create(self, service: str = "checkout", **fields: Any) -> dict[str, Any]:
        body = {"service": service, "baseline_version": "v1", "canary_version": "v2"}
        body.update(fields)
        body.setdefault("metrics", METRICS)
        response = self.post("/v1/rollouts", json=body)
        assert response.status_code == 201, response.text
        return dict(response.json())


def lines(
    start: float, intervals: int, canary_failed: int, baseline_failed: int = 1, total: int = 100
) -> list[dict[str, Any]]:
    """Telemetry for both cohorts every 2 s from `start`."""
    out: list[dict[str, Any]] = []
    for k in range(intervals):
        ts = start + 2 * k
        for cohort, failed in (("baseline", baseline_failed), ("canary", canary_failed)):
            out.append(
                {"ts": ts, "cohort": cohort, "metric": "errors", "total": total, "failed": failed}
            )
            values = [10.0 + (i * 7 + k) % 13 for i in range(20)]
            out.append({"ts": ts, "cohort": cohort, "metric": "latency_ms", "values": values})
    return out


def settings_for(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Settings:
    if backend == "embedded":
        return Settings(data_dir=tmp_path / "sentra")
    redis_url = request.getfixturevalue("redis_url")
    _forget_learners(redis_url)
    return Settings(
        data_dir=tmp_path / "sentra",
        database_url=request.getfixturevalue("mysql_url"),
        redis_url=redis_url,
    )


def _forget_learners(url: str) -> None:
    """Service learners live 90 days in Redis: a test must not inherit an earlier run's."""
    client = redis.Redis.from_url(url)
    try:
        for key in client.scan_iter(keys.learner("*")):
            client.delete(key)
    finally:
        client.close()


def start(settings: Settings) -> Iterator[Api]:
    app = create_app(settings)
    with app.state.services.sessions() as session:
        secrets = {
            role: tokens.create_token(
                session=session, name=f"t-{role}-{uuid.uuid4().hex[:8]}", role=role, actor="test"
            )[1]
            # the admin's first: token id 1 in a fresh database, which a fuzzer tries early
            for role in sorted(Role, key=lambda r: r is not Role.ADMIN)
        }
        session.commit()
    controller = controller_on(app.state.services)
    with TestClient(app) as client:
        yield Api(app, client, secrets, controller)
    controller.close()


def detail_text(response: Any) -> str:
    """An error's `detail`: 'lines.1.metric: unknown metric ...' (for a 422, checked against
    its `errors` array, which says the same)."""
    body = response.json()
    if response.status_code == 422:
        assert body["detail"] == as_text(body["errors"]), body
    return str(body["detail"])
