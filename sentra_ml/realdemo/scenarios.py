"""What the real loop plays: a healthy canary, and one canary per fault, each a rollout."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

INTERVAL_SECONDS = 2.0  # the judge's interval and the Prometheus source's step


@dataclass(frozen=True)
class Scenario:
    """A canary with `fault` (see realdemo.app) of `size`, injected `onset` seconds after the
    first step is in force; `expect` is the outcome a correct judge reaches within `limit` s."""

    name: str
    fault: str
    size: float
    onset: float
    expect: str
    limit: float

    @property
    def healthy(self) -> bool:
        return self.fault == "none"


FULL = (
    Scenario("healthy", "none", 0.0, 0.0, "promoted", 420),
    Scenario("error", "error", 0.05, 30.0, "rolled_back", 300),
    Scenario("latency", "latency", 40.0, 30.0, "rolled_back", 300),
    Scenario("leak", "leak", 1.0, 30.0, "rolled_back", 400),
    Scenario("crash", "crash", 8.0, 30.0, "rolled_back", 300),
)
SHORT = (
    Scenario("healthy", "none", 0.0, 0.0, "promoted", 180),
    Scenario("error", "error", 0.2, 6.0, "rolled_back", 120),
)

FULL_POLICY: dict[str, Any] = {
    "steps": [5, 10, 25, 50, 100],
    "min_step_seconds": 10,
    "max_step_seconds": 120,
    "adaptive": True,
    "harm_budget": 4,
}
SHORT_POLICY: dict[str, Any] = {
    "steps": [5, 25, 100],
    "min_step_seconds": 4,
    "max_step_seconds": 120,
    "adaptive": True,
    "harm_budget": 10,
}


def canary_version(scenario: Scenario) -> str:
    return f"v2-{scenario.name}"


def rollout_body(
    scenario: Scenario, target: dict[str, Any], source: dict[str, Any], policy: dict[str, Any]
) -> dict[str, Any]:
    """A complete `POST /v1/rollouts` body for one scenario."""
    return {
        "service": "demo",
        "baseline_version": "v1",
        "canary_version": canary_version(scenario),
        "interval_seconds": INTERVAL_SECONDS,
        "metrics": [
            {"name": "errors", "kind": "ratio", "tolerance": 0.5, "critical": True},
            {"name": "latency_ms", "kind": "latency", "tolerance": 0.2, "quantiles": [0.5, 0.99]},
        ],
        "policy": policy,
        "target": target,
        "source": source,
    }
