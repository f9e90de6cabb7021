"""The TrafficRouter protocol: what the controller needs from any traffic-shifting backend."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import ClassVar, Protocol, runtime_checkable

from sentra_adapters.traffic.weights import Weights, check_weights, same_split


class Outcome(StrEnum):
    """How a rollout ends: all traffic to the canary, or all back to the baseline."""

    PROMOTE = "promote"
    RESTORE = "restore"


class Verification(StrEnum):
    """What `verify` could establish about the live weights."""

    CONFIRMED = "confirmed"
    MISMATCH = "mismatch"
    UNSUPPORTED = "unsupported"  # the backend cannot report what it applies (Argo does the same)


@runtime_checkable
class TrafficRouter(Protocol):
    """Sets and reads the percent of requests per cohort; every failure is an AdapterError."""

    kind: ClassVar[str]
    resolution: ClassVar[float]  # smallest weight step in percent the backend can express

    def set_weights(self, weights: Mapping[str, float]) -> None:
        """Applies `weights` (percent per cohort); checked before any call to the backend."""
        ...

    def get_weights(self) -> Weights:
        """The weights the backend holds now, in percent."""
        ...

    def verify(self, weights: Mapping[str, float]) -> Verification:
        """Whether the live backend applies `weights`, or that it cannot tell."""
        ...

    def finalize(self, outcome: Outcome) -> None:
        """Ends the rollout: 100 % to the canary (PROMOTE) or to the baseline (RESTORE)."""
        ...


def final_weights(outcome: Outcome) -> dict[str, float]:
    """The weights that end a rollout with `outcome`."""
    canary = 100.0 if outcome is Outcome.PROMOTE else 0.0
    return {"baseline": 100.0 - canary, "canary": canary}


class HeldWeightsRouter(TrafficRouter):
    """A router whose `verify` compares the weights the backend holds, and whose `finalize` sets
    the final weights; a subclass implements `set_weights` and `get_weights`.

    `reports_live` is False for a backend whose held weights are only what Sentra wrote (a file):
    a matching split is then UNSUPPORTED, not CONFIRMED.
    """

    reports_live: ClassVar[bool] = True

    def verify(self, weights: Mapping[str, float]) -> Verification:
        """MISMATCH unless the held weights are `weights` within half the resolution."""
        wanted = check_weights(self.kind, weights)
        if not same_split(self.get_weights(), wanted, self.resolution):
            return Verification.MISMATCH
        return Verification.CONFIRMED if self.reports_live else Verification.UNSUPPORTED

    def finalize(self, outcome: Outcome) -> None:
        """All traffic to the canary (PROMOTE) or back to the baseline (RESTORE)."""
        self.set_weights(final_weights(outcome))
