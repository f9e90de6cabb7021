"""The shipped default model (models/default) is the judge's own learner, untrained."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from sentra_ml.analysis.judge.normal import service_learner
from sentra_ml.store.model_bundle import read_bundle

DEFAULT = Path(__file__).resolve().parents[2] / "models" / "default"


def test_the_shipped_default_holds_the_judges_learner_config_and_its_card_says_so() -> None:
    model = read_bundle(DEFAULT)
    learner = model.learner()
    expected = service_learner().config
    assert learner.config == expected, "regenerate models/default (models/README.md)"
    assert model.card["config"] == dataclasses.asdict(expected)
    assert learner.n == 0 and model.service == "*"
