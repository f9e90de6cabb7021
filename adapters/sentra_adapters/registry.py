"""Adapter registries: built-in backends plus Python entry points; unknown kinds are refused.

A canary gate must fail closed, so there is no default backend (Argo's factory, not Flagger's).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from importlib import import_module
from importlib.metadata import entry_points
from typing import Any, Generic, TypeVar

from sentra_adapters.errors import Misconfigured

T = TypeVar("T")


class Registry(Generic[T]):
    """Maps a kind (``nginx``) to a factory; built-ins are ``module:attr`` strings loaded lazily."""

    def __init__(self, what: str, group: str, builtins: Mapping[str, str]) -> None:
        self.what = what
        self.group = group
        self._targets: dict[str, str] = dict(builtins)
        self._factories: dict[str, Callable[..., T]] = {}

    def register(self, kind: str, factory: Callable[..., T]) -> None:
        """Adds a backend at run time; a kind may be claimed only once."""
        if kind in self._targets or kind in self._factories:
            raise Misconfigured(self.group, f"{self.what} kind {kind!r} is already registered")
        self._factories[kind] = factory

    def kinds(self) -> list[str]:
        """Every known kind: built-in, registered, and from the entry-point group."""
        return sorted({*self._targets, *self._factories, *self._discovered()})

    def create(self, kind: str, **config: Any) -> T:
        """A new adapter of `kind`; raises Misconfigured for an unknown kind (never a default)."""
        return self.factory(kind)(**config)

    def from_config(self, config: Mapping[str, Any], field: str) -> T:
        """The adapter of a config such as a rollout's `target`: {"kind": ..., **options}."""
        options = dict(config)
        kind = options.pop("kind", None)
        if not isinstance(kind, str):
            raise Misconfigured(self.group, f"{field}.kind: missing (known: {self.kinds()})")
        return self.create(kind, **options)

    def factory(self, kind: str) -> Callable[..., T]:
        """The factory of `kind`; an entry point may not shadow another backend of the same name."""
        if kind in self._factories:
            return self._factories[kind]
        discovered = self._discovered()
        target = self._targets.get(kind)
        plugin = discovered.get(kind)
        if target is not None and plugin is not None and plugin != target:
            raise Misconfigured(
                self.group, f"{self.what} kind {kind!r} is claimed by {target} and by {plugin}"
            )
        target = target or plugin
        if target is None:
            known = ", ".join(self.kinds()) or "none"
            raise Misconfigured(self.group, f"unknown {self.what} kind {kind!r}; known: {known}")
        module, _, attr = target.partition(":")
        factory: Callable[..., T] = getattr(import_module(module), attr)
        return factory

    def _discovered(self) -> dict[str, str]:
        return {ep.name: ep.value for ep in entry_points(group=self.group)}
