"""Registries: entry-point discovery, refusal of unknown or doubly claimed kinds."""

from __future__ import annotations

from importlib.metadata import EntryPoint
from typing import Any

import pytest
import sentra_adapters.registry as registry_module
from sentra_adapters.errors import Misconfigured
from sentra_adapters.registry import Registry


def make(builtins: dict[str, str], plugins: dict[str, str], monkeypatch: Any) -> Registry[Any]:
    def entry_points(group: str) -> list[EntryPoint]:
        assert group == "sentra.routers"
        return [EntryPoint(name, value, group) for name, value in plugins.items()]

    monkeypatch.setattr(registry_module, "entry_points", entry_points)
    return Registry("router", "sentra.routers", builtins)


def test_a_plugin_from_an_entry_point_is_found_and_created(monkeypatch: Any) -> None:
    reg = make({}, {"ordered": "collections:OrderedDict"}, monkeypatch)
    assert reg.kinds() == ["ordered"]
    assert reg.create("ordered", a=1) == {"a": 1}


def test_an_entry_point_may_not_shadow_a_builtin(monkeypatch: Any) -> None:
    reg = make({"nginx": "collections:OrderedDict"}, {"nginx": "evil:Router"}, monkeypatch)
    with pytest.raises(Misconfigured, match="'nginx' is claimed by collections:OrderedDict and"):
        reg.create("nginx")


def test_the_same_target_as_builtin_and_entry_point_is_one_backend(monkeypatch: Any) -> None:
    reg = make({"d": "collections:OrderedDict"}, {"d": "collections:OrderedDict"}, monkeypatch)
    assert reg.kinds() == ["d"]
    assert reg.create("d") == {}


def test_a_kind_is_registered_once(monkeypatch: Any) -> None:
    reg = make({"nginx": "collections:OrderedDict"}, {}, monkeypatch)
    reg.register("memory", dict)
    with pytest.raises(Misconfigured, match="already registered"):
        reg.register("memory", dict)
    with pytest.raises(Misconfigured, match="already registered"):
        reg.register("nginx", dict)


def test_an_unknown_kind_lists_the_known_ones(monkeypatch: Any) -> None:
    reg = make(
        {"nginx": "collections:OrderedDict"}, {"envoy": "collections:OrderedDict"}, monkeypatch
    )
    with pytest.raises(
        Misconfigured, match=r"^sentra.routers: unknown router kind 'ngnix'; known: envoy, nginx$"
    ):
        reg.create("ngnix")
