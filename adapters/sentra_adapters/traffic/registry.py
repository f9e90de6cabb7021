"""The router registry: built-in backends plus the ``sentra.routers`` entry-point group."""

from __future__ import annotations

from sentra_adapters.registry import Registry
from sentra_adapters.traffic.base import TrafficRouter

routers: Registry[TrafficRouter] = Registry(
    "router",
    "sentra.routers",
    {
        "nginx": "sentra_adapters.traffic.nginx:NginxRouter",
        "haproxy": "sentra_adapters.traffic.haproxy:HAProxyRouter",
        "envoy": "sentra_adapters.traffic.envoy:EnvoyRouter",
    },
)
