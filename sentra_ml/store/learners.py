"""Per-service learner checkpoints: on the bus (Redis) when shared, in files when embedded.

A checkpoint is `ServiceLearner.to_bytes()`, a pickle: only Sentra writes these keys and files,
so only Sentra's own bytes are ever loaded. Two rollouts of one service at once each learn
their own baseline; the one that saves last wins.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import os
import tempfile
from pathlib import Path
from typing import Protocol

from sentra_ml.analysis.anomaly import ServiceLearner
from sentra_ml.store import keys
from sentra_ml.store.bus import KeyValue

log = logging.getLogger(__name__)

LEARNER_TTL = 90 * 24 * 3600.0  # a service not rolled out for 90 days starts afresh


class LearnerStore(Protocol):
    def load(self, service: str) -> bytes | None:
        """The service's last checkpoint, or None for a service never seen."""
        ...

    def save(self, service: str, checkpoint: bytes) -> None:
        """Replace the service's checkpoint, whole or not at all."""
        ...


class BusLearnerStore:
    """Checkpoints as base64 strings on the bus: every replica sees the same learner."""

    def __init__(self, bus: KeyValue) -> None:
        self.bus = bus

    def load(self, service: str) -> bytes | None:
        raw = self.bus.get(keys.learner(service))
        if raw is None:
            return None
        try:
            return base64.b64decode(raw, validate=True)
        except binascii.Error as err:  # only Sentra writes it: a damaged key starts afresh
            log.warning("service %r: learner checkpoint is not base64 (%s)", service, err)
            return None

    def save(self, service: str, checkpoint: bytes) -> None:
        self.bus.put(keys.learner(service), base64.b64encode(checkpoint).decode(), LEARNER_TTL)


class FileLearnerStore:
    """One file per service under `root`, replaced atomically (a crash leaves the old one)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, service: str) -> Path:
        # service names are free text: hash them into safe, fixed-length file names
        return self.root / f"{hashlib.sha256(service.encode()).hexdigest()[:32]}.learner"

    def load(self, service: str) -> bytes | None:
        try:
            return self._path(service).read_bytes()
        except FileNotFoundError:
            return None

    def save(self, service: str, checkpoint: bytes) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.root, suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(checkpoint)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self._path(service))
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


def restored(service: str, checkpoint: bytes) -> ServiceLearner | None:
    """The learner of a checkpoint; None (logged) when it cannot be used."""
    try:
        return ServiceLearner.from_bytes(checkpoint)
    except ValueError as err:
        log.warning("service %r: learner checkpoint unusable (%s); starting afresh", service, err)
        return None


def saved_learner(store: LearnerStore | None, service: str) -> ServiceLearner | None:
    """The service's last saved learner; None without a store or a usable checkpoint."""
    checkpoint = None if store is None else store.load(service)
    return None if checkpoint is None else restored(service, checkpoint)
