"""Envoy router: ``weighted_clusters`` in a filesystem-watched RDS file, swapped with a rename.

Envoy reloads the route configuration when a file is moved into the watched directory, so a
write never shows half a file. Sentra owns the whole file (one virtual host, one ``/`` route);
the admin API's config dump is the read-back, and `set_weights` waits until Envoy applies it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

import httpx

from sentra_adapters.errors import BadResponse, Conflict, Rejected, Unavailable
from sentra_adapters.options import cohort_names
from sentra_adapters.traffic.base import HeldWeightsRouter
from sentra_adapters.traffic.files import exclusive, read_text, replace_atomically
from sentra_adapters.traffic.weights import (
    Weights,
    check_weights,
    integer_weights,
    percent,
)
from sentra_ml.analysis.types.labels import Cohort

_ROUTE_TYPE = "type.googleapis.com/envoy.config.route.v3.RouteConfiguration"


class EnvoyRouter(HeldWeightsRouter):
    """Weights of two clusters behind route configuration `route_name`.

    `rds_file` is the ``path_config_source.path`` Envoy watches (with ``watched_directory`` set to
    its directory); `clusters` maps each cohort to its cluster; `admin_url` is Envoy's admin API.
    """

    kind: ClassVar[str] = "envoy"
    resolution: ClassVar[float] = 0.01
    _scale: ClassVar[int] = 10000

    def __init__(
        self,
        *,
        rds_file: str | Path,
        route_name: str,
        clusters: Mapping[str, str],
        admin_url: str,
        domains: Sequence[str] = ("*",),
        timeout: float = 5.0,
    ) -> None:
        self.rds_file = Path(rds_file)
        self.route_name = route_name
        self.clusters = cohort_names(self.kind, clusters, "clusters")
        self.admin_url = admin_url.rstrip("/")
        self.domains = tuple(domains)
        self.timeout = timeout

    def set_weights(self, weights: Mapping[str, float]) -> None:
        """Swaps in the new file and waits until Envoy serves it; a refused file is rolled back."""
        ints = integer_weights(self.kind, check_weights(self.kind, weights), self._scale)
        version = str(time.time_ns())
        with exclusive(self.kind, self.rds_file):
            rejected_before = self._rejections()
            previous = read_text(self.rds_file)
            text = self._render(ints, version)
            if _same_resources(previous, text) and self._live()[0] == _version(previous):
                return  # Envoy ignores an unchanged route, so there is no new version to wait for
            replace_atomically(self.kind, self.rds_file, text)
            try:
                self._wait_for(version, rejected_before)
            except (Rejected, Unavailable):
                if previous is not None:
                    replace_atomically(self.kind, self.rds_file, previous)
                raise

    def get_weights(self) -> Weights:
        """The weights Envoy applies now, from its admin config dump."""
        return percent(self.kind, self._live()[1])

    def _render(self, ints: Mapping[Cohort, int], version: str) -> str:
        route = {
            "@type": _ROUTE_TYPE,
            "name": self.route_name,
            "virtual_hosts": [
                {
                    "name": self.route_name,
                    "domains": list(self.domains),
                    "routes": [
                        {
                            "match": {"prefix": "/"},
                            "route": {
                                "weighted_clusters": {
                                    "clusters": [
                                        {"name": self.clusters[c], "weight": w}
                                        for c, w in ints.items()
                                    ]
                                }
                            },
                        }
                    ],
                }
            ],
        }
        return json.dumps({"version_info": version, "resources": [route]}, indent=2)

    def _wait_for(self, version: str, rejected_before: int) -> None:
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            if self._live()[0] == version:
                return
            if self._rejections() > rejected_before:
                raise Rejected(self.kind, f"route {self.route_name}: update rejected (see log)")
            time.sleep(0.02)
        raise Unavailable(self.kind, f"route {self.route_name} not applied in {self.timeout} s")

    def _live(self) -> tuple[str, dict[Cohort, float]]:
        """The live route's version and cluster weights."""
        dump = self._admin("/config_dump", {"resource": "dynamic_route_configs"})
        for config in dump.get("configs", []):
            route = config.get("route_config", {})
            if route.get("name") == self.route_name:
                return str(config.get("version_info", "")), self._weights_in(route)
        raise Conflict(self.kind, f"no route configuration {self.route_name!r} is loaded")

    def _weights_in(self, route: Mapping[str, Any]) -> dict[Cohort, float]:
        by_name = {name: cohort for cohort, name in self.clusters.items()}
        try:
            for host in route["virtual_hosts"]:
                for entry in host["routes"]:
                    clusters = entry.get("route", {}).get("weighted_clusters", {}).get("clusters")
                    if clusters and {c["name"] for c in clusters} == set(by_name):
                        return {by_name[c["name"]]: float(c["weight"]) for c in clusters}
        except (KeyError, TypeError, AttributeError) as e:
            raise BadResponse(self.kind, f"unexpected route configuration: {e!r}") from e
        raise Conflict(self.kind, f"route {self.route_name!r} splits no traffic between cohorts")

    def _rejections(self) -> int:
        stats = self._admin("/stats", {"format": "json", "filter": r"\.update_rejected$"})
        suffix = f".rds.{self.route_name}.update_rejected"
        try:
            return sum(int(s["value"]) for s in stats["stats"] if s["name"].endswith(suffix))
        except (KeyError, TypeError, ValueError) as e:
            raise BadResponse(self.kind, f"unexpected stats: {e!r}") from e

    def _admin(self, path: str, params: Mapping[str, str]) -> Any:
        try:
            response = httpx.get(self.admin_url + path, params=params, timeout=self.timeout)
        except httpx.HTTPError as e:
            raise Unavailable(self.kind, f"admin API {self.admin_url}: {e!r}") from e
        if response.status_code != 200:
            raise BadResponse(self.kind, f"{path}: HTTP {response.status_code}")
        try:
            return response.json()
        except ValueError as e:
            raise BadResponse(self.kind, f"{path}: not JSON") from e


def _version(text: str | None) -> str | None:
    try:
        return str(json.loads(text or "")["version_info"])
    except (ValueError, KeyError, TypeError):
        return None


def _same_resources(previous: str | None, text: str) -> bool:
    try:
        return bool(json.loads(previous or "")["resources"] == json.loads(text)["resources"])
    except (ValueError, KeyError, TypeError):
        return False
