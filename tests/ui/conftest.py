"""The service under uvicorn with its in-process controller, and Debian's chromium driven by
Playwright, for the dashboard's tests."""

from __future__ import annotations

import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from sentra_ml.api.app import create_app
from sentra_ml.compose import in_process_controller
from sentra_ml.settings import Settings
from sentra_ml.store import tokens
from sentra_ml.store.tokens import Role

ADAPTERS = Path(__file__).parents[1] / "adapters"
if str(ADAPTERS) not in sys.path:
    sys.path.insert(0, str(ADAPTERS))

from adapter_servers import free_port, require_binary  # type: ignore[import-not-found]  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
METRICS = [
    {"name": "errors", "kind": "ratio", "critical": True, "tolerance": 0.2,
     "slo": {"objective": 0.05}},
    {"name": "latency_ms", "kind": "latency", "tolerance": 0.2},
]  # fmt: skip


@dataclass
class Service:
    base: str
    secrets: dict[Role, str]
    names: dict[Role, str]
    client: httpx.Client = field(default_factory=lambda: httpx.Client(timeout=10))

    def call(self, method: str, path: str, role: Role = Role.OPERATOR, **kw: Any) -> Any:
        headers = {"Authorization": f"Bearer {self.secrets[role]}"}
        response = self.client.request(method, f"{self.base}{path}", headers=headers, **kw)
        assert response.status_code < 300, response.text
        return response.json()

    def create(self, service: str) -> dict[str, Any]:
        body = {"service": service, "baseline_version": "v1", "canary_version": "v2",
                "metrics": METRICS, "interval_seconds": 1.0}  # fmt: skip
        return dict(self.call("POST", "/v1/rollouts", json=body))

    def push(self, rollout_id: str, canary_failed: int, *, ended_ok: bool = False) -> None:
        """One interval of both cohorts now; `ended_ok`: the rollout may have just ended."""
        ts = time.time()
        lines = []
        for cohort, failed in (("baseline", 1), ("canary", canary_failed)):
            lines.append({"ts": ts, "cohort": cohort, "metric": "errors", "total": 200,
                          "failed": failed})  # fmt: skip
            slow = 1.0 if cohort == "baseline" else 1.05
            values = [slow * (20.0 + (i * 7 + int(ts)) % 13) for i in range(30)]
            lines.append({"ts": ts, "cohort": cohort, "metric": "latency_ms", "values": values})
        response = self.client.post(
            f"{self.base}/v1/rollouts/{rollout_id}/telemetry",
            headers={"Authorization": f"Bearer {self.secrets[Role.OPERATOR]}"},
            json={"lines": lines},
        )
        assert response.status_code == 202 or (ended_ok and response.status_code == 409), (
            response.text
        )


@pytest.fixture
def service(tmp_path: Path) -> Iterator[Service]:
    settings = Settings(data_dir=tmp_path / "sentra", evaluation_interval_seconds=1.0)
    app = create_app(settings, companion=in_process_controller)
    secrets, names = {}, {}
    with app.state.services.sessions() as session:
        for role in Role:
            names[role] = f"ui-{role}-{uuid.uuid4().hex[:6]}"
            secrets[role] = tokens.create_token(
                session=session, name=names[role], role=role, actor="test"
            )[1]
        session.commit()
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    svc = Service(f"http://127.0.0.1:{port}", secrets, names)
    try:
        yield svc
    finally:
        svc.client.close()
        server.should_exit = True
        thread.join(timeout=30)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    chromium = require_binary("chromium", CHROMIUM)  # a failure, not a skip, under CI=true
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=chromium, args=["--headless", "--no-sandbox", "--disable-gpu"]
        )
        yield browser
        browser.close()
