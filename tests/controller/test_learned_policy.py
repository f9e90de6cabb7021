"""The controller judges a rollout by its service's published step policy in place of the
defaults: loaded from a real MLflow store through `PublishedLearnerStore`, never over a person's
explicit policy, and kept for the whole rollout when the alias moves or another replica takes
over."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sentra_controller.controller import Controller
from sentra_controller.metrics import ControllerMetrics
from sentra_controller.policies import applied
from sentra_training.fit import TrainedModel
from sentra_training.registry import log_training, set_alias

from benchmarks import sim_backends
from sentra_ml.analysis.judge.normal import service_learner
from sentra_ml.simulate import scenario_library
from sentra_ml.spec import parse_spec
from sentra_ml.store import audit
from sentra_ml.store import weight_changes as ledger
from sentra_ml.store.bus import InProcessBus
from sentra_ml.store.db import make_engine, session_factory, upgrade
from sentra_ml.store.learners import FileLearnerStore
from sentra_ml.store.model_bundle import ServiceModel
from sentra_ml.store.model_loader import ModelLoader, PublishedLearnerStore
from sentra_ml.store.schema import Rollout

T0 = 1_800_000_000.0
METRICS = [{"name": "errors", "kind": "ratio", "tolerance": 0.2, "critical": True}]


def test_learned_fields_fill_only_what_the_spec_left_at_its_defaults() -> None:
    learned = {"steps": [5, 20, 100], "min_step_seconds": 4}
    plain = parse_spec({"metrics": METRICS})
    tuned = applied(plain, {"metrics": METRICS}, learned)
    assert tuned.policy.steps == (5.0, 20.0, 100.0) and tuned.policy.min_step_seconds == 4.0
    assert tuned.policy.max_step_seconds == plain.policy.max_step_seconds
    raw = {"metrics": METRICS, "policy": {"steps": [1, 100]}}
    own = applied(parse_spec(raw), raw, learned)
    assert own.policy.steps == (1.0, 100.0)  # a person's explicit steps win ...
    assert own.policy.min_step_seconds == 4.0  # ... the field they left out is learned
    assert applied(plain, {"metrics": METRICS}, {}) is plain


def publish(uri: str, root: Path, steps: list[float], hold: float) -> int:
    card = {"metrics": {}, "policy": {"steps": steps, "min_step_seconds": hold}}
    model = ServiceModel("checkout", service_learner().to_bytes(), card)
    empty = np.zeros(0)
    trained = TrainedModel(model, {}, {}, empty, empty, empty.astype(bool), 0)
    _, version = log_training(uri, trained, [], root.as_uri())
    set_alias(uri, "checkout", version, "production")
    return version


class Loop:
    """Rollouts of simulated healthy canaries judged by real controllers sharing one bus."""

    def __init__(self, tmp: Path, uri: str) -> None:
        engine = make_engine(f"sqlite:///{tmp / 'audit.db'}")
        upgrade(engine)
        self.sessions = session_factory(engine)
        self.bus = InProcessBus()
        self.loader = ModelLoader(uri, poll_seconds=0)
        self.store = PublishedLearnerStore(FileLearnerStore(tmp / "learners"), self.loader)
        self.tmp = tmp

    def controller(self) -> Controller:
        routers, sources = sim_backends.registries()
        return Controller(
            sessions=self.sessions, bus=self.bus, learners=self.store,
            metrics=ControllerMetrics(), routers=routers, sources=sources,
        )  # fmt: skip

    def create(self, name: str, policy: dict[str, Any] | None = None) -> str:
        world = sim_backends.SimWorld(scenario_library()["aa"], 1, T0)
        sim_backends.WORLDS[name] = world
        spec: dict[str, Any] = {"service": "checkout", "metrics": METRICS}
        if policy is not None:
            spec["policy"] = policy
        with self.sessions() as session, session.begin():
            row = audit.create_rollout(
                session=session, service="checkout", namespace="test", baseline_version="v1",
                canary_version="v2", spec=spec, weight=1.0, target={"kind": "sim", "world": name},
                source={"kind": "sim", "world": name}, actor="test", now=T0,
            )  # fmt: skip
            return row.id

    def tick(self, controller: Controller, rid: str, t: float) -> dict[str, Any]:
        with self.sessions() as session:
            row = session.get(Rollout, rid)
            assert row is not None
        verdict = controller.tick(row, t)
        assert verdict is not None
        return verdict

    def first_weight(self, rid: str) -> float:
        with self.sessions() as session:
            return ledger.reached(session=session, rollout_id=rid)[0].weight


@pytest.fixture
def registry(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'mlflow.db'}"


def test_the_published_policy_steps_the_rollout_and_stays_with_it(
    tmp_path: Path, registry: str
) -> None:
    v1 = publish(registry, tmp_path / "artifacts", [5, 20, 50, 100], 4)
    loop = Loop(tmp_path, registry)
    first = loop.controller()
    learned, own = (
        loop.create("learned"),
        loop.create("own", {"steps": [1, 50, 100], "min_step_seconds": 10}),
    )
    for rid in (learned, own):
        verdict = loop.tick(first, rid, T0 + 2)
    assert loop.first_weight(learned) == 5.0  # the learned first step, not the default 1 %
    assert loop.first_weight(own) == 1.0  # a person's explicit policy wins
    assert "steps" not in verdict["model"]
    verdict = loop.tick(first, learned, T0 + 4)
    assert f"steps sentra-checkout/{v1}" in verdict["model"]  # the decision names the policy

    v2 = publish(registry, tmp_path / "artifacts", [2, 10, 100], 4)
    loop.loader.poll()  # the alias moved: new rollouts take it, running ones keep theirs
    first.close()
    second = loop.controller()  # another replica takes the rollout over and replays it
    verdict = loop.tick(second, learned, T0 + 6)
    assert f"steps sentra-checkout/{v1}" in verdict["model"]
    assert second.tracked(learned).session.spec.policy.steps == (5.0, 20.0, 50.0, 100.0)
    newer = loop.create("newer")
    verdict = loop.tick(second, newer, T0 + 8)
    assert loop.first_weight(newer) == 2.0
    assert f"steps sentra-checkout/{v2}" in verdict["model"]
    second.close()
    for name in ("learned", "own", "newer"):
        del sim_backends.WORLDS[name]


def test_without_a_published_model_the_defaults_stay(tmp_path: Path, registry: str) -> None:
    loop = Loop(tmp_path, registry)
    controller = loop.controller()
    rid = loop.create("plain")
    verdict = loop.tick(controller, rid, T0 + 2)
    assert loop.first_weight(rid) == 1.0 and "steps" not in verdict["model"]
    controller.close()
    del sim_backends.WORLDS["plain"]
