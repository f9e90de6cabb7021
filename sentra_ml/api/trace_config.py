"""The check of a rollout's `traces` config (Tempo) at creation."""

from __future__ import annotations

import math
from typing import Any

from sentra_adapters.errors import AdapterError
from sentra_adapters.telemetry.tempo import TempoTraces

from sentra_ml.analysis.types.labels import MetricKind
from sentra_ml.analysis.types.specs import RolloutSpec


def check(config: dict[str, Any], spec: RolloutSpec) -> None:
    """Raise ValueError naming the field when `config` cannot serve `spec`'s metrics."""
    kinds = {m.name: m.kind for m in spec.metrics}
    for name, ms in config.get("slow_ms", {}).items():
        if kinds.get(name) is not MetricKind.LATENCY:
            raise ValueError(f"traces.slow_ms.{name}: not a latency metric of this rollout")
        if not (math.isfinite(ms) and ms >= 0):
            raise ValueError(f"traces.slow_ms.{name}: must be a finite number of ms >= 0")
    try:
        TempoTraces.from_config(config).close()
    except AdapterError as err:
        raise ValueError(f"traces: {err}") from None
