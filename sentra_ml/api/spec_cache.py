"""Each rollout's spec, parsed once per process rather than on every push, OTLP export or gate.

A rollout's spec is written when the rollout is created and never changed (rollout ids are random
and never reused), so a parsed spec never goes stale: the cache needs no invalidation, only a
bound. The least recently used rollout leaves first.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping

from sentra_ml.analysis.types.specs import RolloutSpec
from sentra_ml.spec import parse_spec


class SpecCache:
    """Parsed rollout specs by rollout id, at most `size` of them."""

    def __init__(self, size: int = 4096) -> None:
        if size < 1:
            raise ValueError(f"size: must be >= 1, got {size}")
        self.size = size
        self._lock = threading.Lock()  # sync routes run on the thread pool
        self._specs: OrderedDict[str, RolloutSpec] = OrderedDict()

    def spec(self, rollout_id: str, body: Mapping[str, object]) -> RolloutSpec:
        """The spec of `rollout_id`, whose stored body is `body` (parsed only on a miss)."""
        with self._lock:
            hit = self._specs.get(rollout_id)
            if hit is not None:
                self._specs.move_to_end(rollout_id)
                return hit
        parsed = parse_spec(body)  # outside the lock: two threads may both parse; same result
        with self._lock:
            self._specs[rollout_id] = parsed
            self._specs.move_to_end(rollout_id)
            while len(self._specs) > self.size:
                self._specs.popitem(last=False)
        return parsed

    def __len__(self) -> int:
        return len(self._specs)
