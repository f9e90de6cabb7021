"""The router registry: every built-in backend, plus plugins from the ``sentra.routers`` group.

This table is the one list of Sentra's own routers; ``pyproject.toml`` declares no entry points
for them, so that a checkout run from source knows the same kinds as an installed wheel.
"""

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
        "aws_lambda": "sentra_adapters.traffic.aws_lambda:LambdaRouter",
        "aws_alb": "sentra_adapters.traffic.aws_alb:ALBRouter",
        "aws_ecs": "sentra_adapters.traffic.aws_ecs:ECSRouter",
        "gateway_api": "sentra_adapters.traffic.k8s.gateway:GatewayRouter",
        "ingress_nginx": "sentra_adapters.traffic.k8s.ingress_nginx:IngressNginxRouter",
        "k8s_replicas": "sentra_adapters.traffic.k8s.replicas:ReplicaRatioRouter",
        "gcp_cloud_run": "sentra_adapters.traffic.gcp_cloud_run:CloudRunRouter",
        "azure_container_apps": "sentra_adapters.traffic.azure_container_apps:ContainerAppsRouter",
        "azure_functions": "sentra_adapters.traffic.azure_functions:FunctionsSlotRouter",
    },
)
