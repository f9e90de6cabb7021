"""One scenario on the running stack: a fresh canary, a rollout, the fault at its onset, and
everything observed until the rollout ends."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from sqlalchemy import create_engine

from sentra_ml.realdemo.load import Response
from sentra_ml.realdemo.processes import Supervisor, wait_until
from sentra_ml.realdemo.prometheus import source
from sentra_ml.realdemo.scenarios import (
    INTERVAL_SECONDS,
    Scenario,
    canary_version,
    rollout_body,
)
from sentra_ml.realdemo.stack import BASELINE_VERSION, Stack, app_command, served_by
from sentra_ml.store import weight_changes
from sentra_ml.store.db import session_factory

ENDED = ("promoted", "rolled_back", "aborted")


@dataclass
class Played:
    """What one scenario showed; times are wall-clock seconds."""

    scenario: Scenario
    rollout_id: str
    created: float
    first_step: float | None = None
    onset: float | None = None
    state: str = "pending"
    reasons: list[str] = field(default_factory=list)
    changes: list[dict[str, Any]] = field(default_factory=list)  # the weight-change ledger
    served: list[float] = field(default_factory=list)  # when the front served new weights
    scrapes: list[float] = field(default_factory=list)  # when the canary's metrics were read
    responses: list[Response] = field(default_factory=list)
    verdicts: list[dict[str, Any]] = field(default_factory=list)
    restarts: int = 0


class Watch:
    """Polls `probe` every 10 ms in a thread; the times at which its answer changed."""

    def __init__(self, probe: Callable[[], object]) -> None:
        self.probe = probe
        self.changes: list[float] = []
        self._stop = threading.Event()
        self._last = self._read()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _read(self) -> object:
        try:
            return self.probe()
        except (OSError, httpx.HTTPError, ValueError):
            return None

    def _run(self) -> None:
        while not self._stop.wait(0.01):
            value = self._read()
            if value is not None and value != self._last:
                self.changes.append(time.time())
                self._last = value

    def close(self) -> list[float]:
        self._stop.set()
        self._thread.join(timeout=5)
        return self.changes


def play(
    stack: Stack, scenario: Scenario, policy: dict[str, Any], log: Callable[[str], None]
) -> Played:
    """Run `scenario` to its end (or its limit) and return what was seen."""
    port = stack.canary_port
    canary = Supervisor(
        app_command(port, "canary", canary_version(scenario)),
        stack.directory / f"canary-{scenario.name}.log",
    )
    scrapes: set[float] = set()
    try:
        wait_until(lambda: served_by(port), 15, "the canary service", None)
        stack.front.reset()
        time.sleep(0.5)  # let the reset reload settle before watching for the rollout's changes
        watch = Watch(stack.front.probe)
        versions = {"baseline": BASELINE_VERSION, "canary": canary_version(scenario)}
        pulled = source(
            stack.prometheus_url, INTERVAL_SECONDS, versions, proxy=stack.front.stats is not None
        )
        body = rollout_body(scenario, stack.front.target, pulled, policy)
        created = stack.api.post("/v1/rollouts", json=body)
        if created.status_code != 201:
            raise RuntimeError(f"POST /v1/rollouts: {created.status_code} {created.text}")
        played = Played(scenario, created.json()["id"], time.time())
        log(f"{scenario.name}: rollout {played.rollout_id} created")
        deadline = played.created + scenario.limit
        while time.time() < deadline:
            state = _observe(stack.api, played)
            if played.first_step is None and state == "running":
                played.first_step = time.time()
            if (
                played.onset is None and played.first_step is not None and not scenario.healthy
                and time.time() >= played.first_step + scenario.onset
            ):  # fmt: skip
                played.onset = _inject(canary, port, scenario)
                log(f"{scenario.name}: fault {scenario.fault} ({scenario.size:g}) injected")
            scrapes |= _scrapes(port)
            if state in ENDED:
                break
            time.sleep(0.5)
        time.sleep(1.0)  # the last served change and the responses around it
        played.served = watch.close()
        played.restarts = canary.restarts
    finally:
        scrapes |= _scrapes(port)
        # traffic back on the baseline before the canary stops: a promoted canary still has it
        # all, and behind Envoy its requests would fail until the next scenario's reset
        with contextlib.suppress(Exception):
            stack.front.reset()
        canary.close()
    played.scrapes = sorted(scrapes)
    played.responses = stack.load.since(played.created)
    played.changes = _ledger(stack.database_url, played.rollout_id)
    log(f"{scenario.name}: {played.state}")
    return played


def _observe(api: httpx.Client, played: Played) -> str:
    body = api.get(f"/v1/rollouts/{played.rollout_id}/verdict").json()
    played.state = str(body["state"])
    verdict = body.get("verdict") or {}
    if verdict:
        played.reasons = list(verdict.get("reasons", []))
        last = played.verdicts[-1] if played.verdicts else None
        entry = {"t": time.time(), "action": verdict.get("action"), "weight": verdict.get("weight")}
        if last is None or (last["action"], last["weight"]) != (entry["action"], entry["weight"]):
            played.verdicts.append(entry | {"reasons": played.reasons})
    return played.state


def _inject(canary: Supervisor, port: int, scenario: Scenario) -> float:
    # later restarts of a crash-looping canary keep crashing
    command = app_command(port, "canary", canary_version(scenario), scenario.fault, scenario.size)
    canary.replace(command)
    fault = {"kind": scenario.fault, "size": scenario.size}
    httpx.post(f"http://127.0.0.1:{port}/fault", json=fault, timeout=5).raise_for_status()
    return time.time()


def _scrapes(port: int) -> set[float]:
    try:
        return set(httpx.get(f"http://127.0.0.1:{port}/scrapes", timeout=1).json())
    except (httpx.HTTPError, ValueError):
        return set()  # a crashed canary: its next process starts a new list


def _ledger(database_url: str, rollout_id: str) -> list[dict[str, Any]]:
    engine = create_engine(database_url)
    try:
        with session_factory(engine)() as session:
            return [
                {"ts": c.ts, "weight": c.weight, "status": c.status, "settled_at": c.settled_at}
                for c in weight_changes.history(session=session, rollout_id=rollout_id)
            ]
    finally:
        engine.dispose()
