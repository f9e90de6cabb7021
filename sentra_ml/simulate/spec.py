"""The rollout spec that names the simulator's metrics, for tests, the benchmark and the demo."""

from __future__ import annotations

from sentra_ml.analysis.types.labels import Direction, MetricKind
from sentra_ml.analysis.types.specs import SLO, MetricSpec, RolloutSpec, StepPolicy
from sentra_ml.simulate.service import CPU, ERRORS, LATENCY, MEMORY


def default_spec(
    alpha: float = 0.01, policy: StepPolicy | None = None, service: str = "simulated"
) -> RolloutSpec:
    """errors (critical, SLO 5 %), latency_ms (p50, p99) within 20 %; cpu, memory_mb within 25 %."""
    up = Direction.INCREASE
    metrics = (
        MetricSpec(ERRORS, MetricKind.RATIO, up, 0.2, critical=True, slo=SLO(0.05)),
        MetricSpec(LATENCY, MetricKind.LATENCY, up, 0.2, quantiles=(0.5, 0.99)),
        MetricSpec(CPU, MetricKind.GAUGE, up, 0.25),
        MetricSpec(MEMORY, MetricKind.GAUGE, up, 0.25),
    )
    return RolloutSpec(metrics=metrics, policy=policy or StepPolicy(), alpha=alpha, service=service)
