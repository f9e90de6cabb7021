"""A per-service model on disk: the learner's warm state and its card (what, from which data, how
good), as `sentra train` writes it, MLflow stores it and the judging loop loads it.

A bundle is a folder: `learner.bin` (a `ServiceLearner` checkpoint: pickle, so load only bundles
Sentra wrote, from your own registry or `models/`) and `card.json`. The card may hold the
service's learned step policy (`policy`: the `StepPolicy` fields it sets, and what they were
learned from), which the controller uses in place of the defaults.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sentra_ml.analysis.anomaly import ServiceLearner
from sentra_ml.analysis.types.errors import SpecError
from sentra_ml.analysis.types.specs import StepPolicy

FORMAT = "sentra-model/1"
LEARNER_FILE = "learner.bin"
CARD_FILE = "card.json"
# the StepPolicy fields a learned policy may set; the rest stay the rollout's own
POLICY_FIELDS = ("steps", "min_step_seconds")


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

    def step_policy(self) -> dict[str, Any] | None:
        """The learned step policy's fields (`POLICY_FIELDS`), None when the card has none."""
        policy = self.card.get("policy")
        if not isinstance(policy, dict):
            return None
        return {k: policy[k] for k in POLICY_FIELDS if k in policy}


def check_policy(fields: dict[str, Any], where: str) -> None:
    """BundleError unless `fields` are known StepPolicy fields that make a valid policy."""
    unknown = sorted(set(fields) - set(POLICY_FIELDS))
    if unknown:
        raise BundleError(f"{where}: policy: unknown fields {unknown}")
    try:
        values: dict[str, Any] = {
            k: tuple(v) if k == "steps" else float(v) for k, v in fields.items()
        }
        StepPolicy(**values)
    except (SpecError, TypeError, ValueError) as e:
        raise BundleError(f"{where}: policy: {e}") from None


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
    model = ServiceModel(service, checkpoint, card, version)
    fields = model.step_policy()
    if fields is not None:
        check_policy(fields, str(folder / CARD_FILE))
    return model
