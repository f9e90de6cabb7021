"""NAB's three application profiles (cost matrices), as published with the benchmark."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CostProfile:
    """Weights of NAB's scoring: a true positive earns up to `tp`, a missed window costs `fn`,
    a false positive costs up to `fp`."""

    name: str
    tp: float = 1.0
    fp: float = 0.11
    fn: float = 1.0


PROFILES: dict[str, CostProfile] = {
    "standard": CostProfile("standard", tp=1.0, fp=0.11, fn=1.0),
    "reward_low_FP_rate": CostProfile("reward_low_FP_rate", tp=1.0, fp=0.22, fn=1.0),
    "reward_low_FN_rate": CostProfile("reward_low_FN_rate", tp=1.0, fp=0.11, fn=2.0),
}
