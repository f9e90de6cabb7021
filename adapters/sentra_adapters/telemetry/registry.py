"""The source registry: every built-in backend, plus plugins from the ``sentra.sources`` group.

This table is the one list of Sentra's own sources (``pyproject.toml`` declares none of them).
"""

from __future__ import annotations

from sentra_adapters.registry import Registry
from sentra_adapters.telemetry.base import TelemetrySource

sources: Registry[TelemetrySource] = Registry(
    "source",
    "sentra.sources",
    {
        "prometheus": "sentra_adapters.telemetry.prometheus:PrometheusSource",
        "cloudwatch": "sentra_adapters.telemetry.cloudwatch:CloudWatchSource",
        "loki": "sentra_adapters.telemetry.loki:LokiSource",
    },
)
