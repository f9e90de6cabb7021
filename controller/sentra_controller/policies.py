"""The step policy a rollout is judged by: its spec's own, with the fields the spec leaves at their
defaults taken from the service's published model (the policy `sentra train` learned from the
service's past rollouts).

It is chosen once, when the rollout is first taken, and kept on the bus beside the learner's start
checkpoint: a replica that takes over, or an alias moved mid-rollout, judges the rest of the
rollout by the steps it began with.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from sentra_ml.analysis.types.specs import RolloutSpec
from sentra_ml.store import keys
from sentra_ml.store.bus import KeyValue
from sentra_ml.store.learners import LearnerStore
from sentra_ml.store.model_loader import PublishedLearnerStore


@dataclasses.dataclass(frozen=True)
class ChosenPolicy:
    """The learned fields applied to a rollout's policy, and the model they came from."""

    fields: dict[str, Any]
    version: str  # "sentra-checkout/3"; "" when no learned field applies


def applied(spec: RolloutSpec, raw: dict[str, Any], fields: dict[str, Any]) -> RolloutSpec:
    """`spec` with `fields` in place of the policy fields that `raw` (the spec as sent) did not
    set: a person's explicit policy always wins over a learned one."""
    given = raw.get("policy") if isinstance(raw.get("policy"), dict) else {}
    free: dict[str, Any] = {
        name: tuple(value) if name == "steps" else float(value)
        for name, value in fields.items()
        if name not in (given or {})
    }
    if not free:
        return spec
    return dataclasses.replace(spec, policy=dataclasses.replace(spec.policy, **free))


class StepPolicies:
    """Chooses each rollout's learned step policy once (see the module doc)."""

    def __init__(self, bus: KeyValue, store: LearnerStore | None) -> None:
        self.bus = bus
        self.store = store

    def start(
        self, rollout_id: str, spec: RolloutSpec, raw: dict[str, Any]
    ) -> tuple[RolloutSpec, ChosenPolicy]:
        """The spec the rollout is judged by, and the learned policy in it."""
        key = keys.policy_start(rollout_id)
        stored = self.bus.get(key)
        if stored is not None:
            kept = json.loads(stored)
            chosen = ChosenPolicy(kept["fields"], kept["version"])
        else:
            chosen = self._published(spec.service)
            self.bus.put(key, json.dumps(dataclasses.asdict(chosen)), keys.LOG_TTL)
        judged = applied(spec, raw, chosen.fields)
        if judged is spec:
            return spec, ChosenPolicy({}, "")
        return judged, chosen

    def _published(self, service: str) -> ChosenPolicy:
        if not isinstance(self.store, PublishedLearnerStore):
            return ChosenPolicy({}, "")
        found = self.store.step_policy(service)
        return ChosenPolicy({}, "") if found is None else ChosenPolicy(*found)
