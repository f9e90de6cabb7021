"""A model bundle's learned step policy: read back as written, refused when it is not a valid
StepPolicy (the controller must never judge by a broken schedule)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from sentra_ml.analysis.judge.normal import service_learner
from sentra_ml.store.model_bundle import BundleError, ServiceModel, read_bundle, write_bundle


def bundle(folder: Path, policy: dict[str, Any] | None) -> Path:
    card: dict[str, Any] = {"metrics": {}}
    if policy is not None:
        card["policy"] = policy
    return write_bundle(ServiceModel("checkout", service_learner().to_bytes(), card), folder)


def test_the_policy_reads_back_with_only_the_fields_the_controller_uses(tmp_path: Path) -> None:
    policy = {"steps": [5, 20, 100], "min_step_seconds": 4, "learned_from": {"rollouts": 8}}
    model = read_bundle(bundle(tmp_path / "m", policy))
    assert model.step_policy() == {"steps": [5, 20, 100], "min_step_seconds": 4}
    assert read_bundle(bundle(tmp_path / "n", None)).step_policy() is None


@pytest.mark.parametrize(
    ("policy", "message"),
    [
        ({"steps": [5, 20, 50]}, "the last step must be 100"),
        ({"steps": [20, 5, 100]}, "must increase strictly"),
        ({"min_step_seconds": -1}, "min_step_seconds"),
        ({"steps": "fast"}, "policy"),
    ],
)
def test_a_broken_policy_is_refused_naming_the_card(
    tmp_path: Path, policy: dict[str, Any], message: str
) -> None:
    folder = bundle(tmp_path / "m", policy)
    with pytest.raises(BundleError, match=message) as raised:
        read_bundle(folder)
    assert "card.json" in str(raised.value)


def test_the_card_on_disk_holds_the_policy(tmp_path: Path) -> None:
    folder = bundle(tmp_path / "m", {"steps": [2, 100], "min_step_seconds": 5})
    card = json.loads((folder / "card.json").read_text())
    assert card["policy"] == {"steps": [2, 100], "min_step_seconds": 5}
