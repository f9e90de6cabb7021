"""Published models in the judging loop: `models:/sentra-<service>@production`, cached, with the
registry polled on a timer (never per tick), and a fallback when MLflow is unreachable.

`PublishedLearnerStore` wraps a service's `LearnerStore`, so the controller (at each rollout's
start) and the API (one-shot verdicts) both read learners through it unchanged:
- a version published at the alias that this service has not adopted yet replaces its saved
  learner (the model's warm state); from there the service keeps learning as before;
- otherwise the saved learner is used; a service with neither gets the shipped default model
  (`models/default`), when one is given.
A registry that cannot be reached changes nothing: the cached model and the saved learner stay.
A published model's learned step policy (`step_policy`) is read through the same cache.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

from sentra_ml.store.learners import LearnerStore
from sentra_ml.store.model_bundle import BundleError, ServiceModel, read_bundle
from sentra_ml.store.model_registry import PRODUCTION, RegistryUnavailable, download, published

log = logging.getLogger(__name__)
_ADOPTED = "\x00model-version"  # suffix of the store key holding the adopted version


class ModelLoader:
    """The published model of each service asked for, refreshed every `poll_seconds`."""

    def __init__(self, uri: str, *, alias: str = PRODUCTION, poll_seconds: float = 60.0) -> None:
        self.uri = uri
        self.alias = alias
        self.poll_seconds = poll_seconds
        self._models: dict[str, ServiceModel | None] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def model(self, service: str) -> ServiceModel | None:
        """The service's published model (fetched on first ask, then from the cache)."""
        with self._lock:
            if service in self._models:
                return self._models[service]
        self._refresh(service)
        self._start()
        with self._lock:
            return self._models.get(service)

    def _refresh(self, service: str) -> None:
        """Ask the registry; keep what is cached when it cannot answer."""
        try:
            target = published(self.uri, service, self.alias)
            with self._lock:
                cached = self._models.get(service)
            if target is None:
                fresh = None
            elif cached is not None and cached.version.endswith(f"/{target.version}"):
                return
            else:
                fresh = download(self.uri, target)
                log.info("service %r: model %s (%s)", service, fresh.version, self.alias)
        except (RegistryUnavailable, BundleError) as e:
            log.warning("service %r: model registry unusable, keeping what it has (%s)", service, e)
            with self._lock:
                self._models.setdefault(service, None)
            return
        with self._lock:
            self._models[service] = fresh

    def poll(self) -> None:
        """Refresh every service asked for so far (what the timer runs)."""
        with self._lock:
            services = list(self._models)
        for service in services:
            self._refresh(service)

    def _start(self) -> None:
        with self._lock:
            if self._thread is not None or self.poll_seconds <= 0:
                return
            self._thread = threading.Thread(target=self._run, name="model-poll", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.poll_seconds):
            try:
                self.poll()
            except Exception:  # one failed poll must not end polling
                log.exception("model registry poll failed")

    def close(self) -> None:
        self._stop.set()
        thread = self._thread
        if thread is not None:
            thread.join(timeout=30)


class PublishedLearnerStore:
    """A `LearnerStore` whose services start from their published model (see module doc)."""

    def __init__(
        self, inner: LearnerStore, loader: ModelLoader, default: ServiceModel | None = None
    ) -> None:
        self.inner = inner
        self.loader = loader
        self.default = default

    def load(self, service: str) -> bytes | None:
        model = self.loader.model(service)
        if model is not None and self.adopted(service) != model.version:
            self.inner.save(service, model.checkpoint)
            self.inner.save(service + _ADOPTED, model.version.encode())
            log.info("service %r: learner replaced by model %s", service, model.version)
            return model.checkpoint
        saved = self.inner.load(service)
        if saved is None and self.default is not None:
            return self.default.checkpoint
        return saved

    def save(self, service: str, checkpoint: bytes) -> None:
        self.inner.save(service, checkpoint)

    def step_policy(self, service: str) -> tuple[dict[str, Any], str] | None:
        """The published model's learned step policy fields and the model's version; None when
        no model is published (or cached) or it learned no policy. The shipped default model
        has none: without a published model the rollout's own policy stays."""
        model = self.loader.model(service)
        fields = None if model is None else model.step_policy()
        if model is None or not fields:
            return None
        return fields, model.version

    def adopted(self, service: str) -> str | None:
        """The model version the service's learner descends from (None: none adopted)."""
        raw = self.inner.load(service + _ADOPTED)
        return None if raw is None else raw.decode()

    def close(self) -> None:
        self.loader.close()


def default_model(folder: Path) -> ServiceModel | None:
    """The shipped default model in `folder`, None (logged) when missing or unusable."""
    try:
        return read_bundle(folder, version="default")
    except BundleError as e:
        log.warning("no default model (%s)", e)
        return None
