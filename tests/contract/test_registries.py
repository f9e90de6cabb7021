"""Every router and source is reachable by its kind name, from one table per registry."""

from __future__ import annotations

import inspect
import tomllib
from pathlib import Path
from typing import Any

import pytest
from sentra_adapters.registry import Registry
from sentra_adapters.telemetry.base import TelemetrySource
from sentra_adapters.telemetry.registry import sources
from sentra_adapters.traffic.base import TrafficRouter
from sentra_adapters.traffic.registry import routers

ROOT = Path(__file__).resolve().parents[2]
FAMILIES: list[tuple[Registry[Any], type]] = [(routers, TrafficRouter), (sources, TelemetrySource)]


@pytest.mark.parametrize(
    ("registry", "protocol", "kind"),
    [(r, p, k) for r, p in FAMILIES for k in r.kinds()],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_each_kind_names_a_backend_of_that_kind(
    registry: Registry[Any], protocol: type, kind: str
) -> None:
    factory = registry.factory(kind)
    assert inspect.isclass(factory), factory
    assert factory.kind == kind  # type: ignore[attr-defined]
    missing = [m for m in _methods(protocol) if not callable(getattr(factory, m, None))]
    assert not missing, f"{factory.__name__} lacks {missing}"


def test_every_adapter_module_is_in_a_registry() -> None:
    """A router or source class the package defines but no registry names is unreachable."""
    reachable = {registry.factory(k) for registry, _ in FAMILIES for k in registry.kinds()}
    package = ROOT / "adapters" / "sentra_adapters"
    for family, protocol in (("traffic", TrafficRouter), ("telemetry", TelemetrySource)):
        for path in sorted((package / family).rglob("*.py")):
            module = ".".join(path.relative_to(package.parent).with_suffix("").parts)
            namespace = __import__(module, fromlist=["_"])
            for _, cls in inspect.getmembers(namespace, inspect.isclass):
                if cls.__module__ != module or not isinstance(getattr(cls, "kind", None), str):
                    continue
                if all(callable(getattr(cls, m, None)) for m in _methods(protocol)):
                    assert cls in reachable, f"{module}.{cls.__name__} is in no registry"


def test_the_project_declares_no_second_list_of_built_ins() -> None:
    """pyproject's entry-point groups are for third-party plugins only."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    groups = project.get("entry-points", {})
    for registry, _ in FAMILIES:
        declared = groups.get(registry.group, {})
        assert not declared, f"{registry.group}: built-ins belong in the registry's own table"


def _methods(protocol: type) -> list[str]:
    return [m for m in dir(protocol) if not m.startswith("_") and callable(getattr(protocol, m))]
