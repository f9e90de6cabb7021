"""A per-service model on disk: the learner's warm state and its card (what, from which data, how
good), as `sentra train` writes it, MLflow stores it and the judging loop loads it.

A bundle is a folder: `learner.bin` (a `ServiceLearner` checkpoint: pickle, so load only bundles
Sentra wrote, from your own registry or `models/`) and `card.json`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sentra_ml.analysis.anomaly import ServiceLearner

FORMAT = "sentra-model/1"
LEARNER_FILE = "learner.bin"
CARD_FILE = "card.json"


class BundleError(ValueError):
    """A folder that is not a usable model bundle; the message names the file and problem."""


@dataclass(frozen=True)
class ServiceModel:
    """A trained model: the learner checkpoint and its card; `version` names its origin."""

    service: str
    checkpoint: bytes
    card: dict[str, Any] = field(default_factory=dict)
    version: str = "unversioned"  # "sentra-checkout/3", "default", ...

    def learner(self) -> ServiceLearner:
        """A fresh copy of the warm learner (each rollout gets its own)."""
        return ServiceLearner.from_bytes(self.checkpoint)

    def with_version(self, version: str) -> ServiceModel:
        return ServiceModel(self.service, self.checkpoint, self.card, version)


def write_bundle(model: ServiceModel, folder: Path) -> Path:
    """Write `model` into `folder` (created); returns the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / LEARNER_FILE).write_bytes(model.checkpoint)
    card = {"format": FORMAT, "service": model.service, **model.card}
    (folder / CARD_FILE).write_text(json.dumps(card, indent=2, sort_keys=True) + "\n")
    return folder


def read_bundle(folder: Path, version: str = "unversioned") -> ServiceModel:
    """The model in `folder`; BundleError if a file is missing, foreign or corrupt."""
    try:
        card = json.loads((folder / CARD_FILE).read_text())
        checkpoint = (folder / LEARNER_FILE).read_bytes()
    except FileNotFoundError as e:
        raise BundleError(f"{folder}: no {Path(str(e.filename)).name}") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise BundleError(f"{folder}: unreadable bundle ({e})") from None
    if not isinstance(card, dict) or card.get("format") != FORMAT:
        raise BundleError(f"{folder / CARD_FILE}: not a {FORMAT} card")
    try:
        ServiceLearner.from_bytes(checkpoint)
    except ValueError as e:
        raise BundleError(f"{folder / LEARNER_FILE}: {e}") from None
    service = str(card.pop("service", ""))
    card.pop("format")
    return ServiceModel(service, checkpoint, card, version)
