"""Helpers of the client tests: the real service under uvicorn with its in-process controller
(as `sentra serve` runs it), one token per role, and telemetry pushed on wall-clock time for the
controller to judge."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import uvicorn
import yaml
from adapter_servers import free_port  # type: ignore[import-not-found]
from fastapi import FastAPI

from sentra_ml.api.app import create_app
from sentra_ml.compose import in_process_controller
from sentra_ml.settings import Settings
from sentra_ml.store import tokens
from sentra_ml.store.tokens import Role

ROLLOUT_YAML = """\
service: {service}
baseline_version: v1
canary_version: v2
interval_seconds: 1
grace_seconds: 5
policy:
  steps: [50, 100]
  min_step_seconds: 1
  harm_budget: 10
metrics:
  - name: errors
    kind: ratio
    critical: true
    tolerance: 0.2
"""


@dataclass
class LiveService:
    """A running service: its address and a secret per role."""

    url: str
    secrets: dict[Role, str]

    def env(self, role: Role | None = Role.OPERATOR) -> dict[str, str]:
        """SENTRA_URL and SENTRA_TOKEN for the CLI (no token for `role=None`)."""
        env = {"SENTRA_URL": self.url, "SENTRA_TOKEN": ""}
        if role is not None:
            env["SENTRA_TOKEN"] = self.secrets[role]
        return env

    def call(self, method: str, path: str, **kw: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.secrets[Role.OPERATOR]}"}
        return httpx.request(method, f"{self.url}{path}", headers=headers, timeout=10, **kw)

    def create(self, service: str = "shop") -> str:
        """A rollout of ROLLOUT_YAML, created over the API; its id."""
        body = yaml.safe_load(ROLLOUT_YAML.format(service=service))
        response = self.call("POST", "/v1/rollouts", json=body)
        assert response.status_code == 201, response.text
        return str(response.json()["id"])


def serving(settings: Settings, port: int | None = None) -> Iterator[LiveService]:
    """The service on `port` (default: a free one) until the generator is closed."""
    app: FastAPI = create_app(settings, companion=in_process_controller)
    with app.state.services.sessions() as session:
        secrets = {
            role: tokens.create_token(
                session=session, name=f"{role}-{uuid.uuid4().hex[:6]}", role=role, actor="test"
            )[1]
            for role in Role
        }
        session.commit()
    port = free_port() if port is None else port
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", ws="websockets-sansio"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the service did not start"
        time.sleep(0.02)
    try:
        yield LiveService(f"http://127.0.0.1:{port}", secrets)
    finally:
        server.should_exit = True
        thread.join(20)


class Telemetry:
    """Pushes one batch per half second, timestamped now, until stopped or the rollout ends:
    the canary fails `canary_failed` of 400 requests, the baseline 4."""

    def __init__(self, service: LiveService, rollout_id: str, canary_failed: int) -> None:
        self.service, self.rollout_id, self.canary_failed = service, rollout_id, canary_failed
        self.refused: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Telemetry:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(10)

    def _run(self) -> None:
        while not self._stop.is_set():
            now = time.time()
            lines = [
                {"ts": now, "cohort": cohort, "metric": "errors", "total": 400, "failed": failed}
                for cohort, failed in (("baseline", 4), ("canary", self.canary_failed))
            ]
            path = f"/v1/rollouts/{self.rollout_id}/telemetry"
            answer = self.service.call("POST", path, json={"lines": lines})
            if answer.status_code == 409:  # the rollout is over
                return
            if answer.status_code != 202:
                self.refused.append(answer.text)
                return
            self._stop.wait(0.5)
