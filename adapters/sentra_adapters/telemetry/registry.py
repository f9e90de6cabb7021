"""The source registry: built-in backends plus the ``sentra.sources`` entry-point group."""

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
