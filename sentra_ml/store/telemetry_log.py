"""The telemetry log of a rollout on the bus: accepted batches in order, each whole.

The API appends; the controller that holds the rollout's lease tails it. A log that Redis lost
(a restart without persistence) begins anew with another epoch, so a reader whose offset points
past its end, or into another log, can tell and start over instead of silently skipping it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from sentra_ml.spec import TelemetryLine, logged_line
from sentra_ml.store import keys
from sentra_ml.store.bus import LogStore


@dataclass(frozen=True)
class LogRead:
    epoch: str | None
    start: int  # the offset the entries begin at (0 after a new epoch)
    entries: list[list[TelemetryLine]]
    restarted: bool  # the log was begun anew since the reader's last read


def append(
    bus: LogStore, rollout_id: str, lines: Sequence[TelemetryLine], owner: str | None = None
) -> bool:
    """Add a checked batch as one entry (all or nothing). With `owner`, only while it holds
    the rollout's lease (a controller adding pulled telemetry); whether it was added."""
    batch = [line.model_dump(exclude_defaults=True) for line in lines]
    lease = None if owner is None else (keys.lease(rollout_id), owner)
    return bus.log_append(
        keys.telemetry(rollout_id), keys.telemetry_epoch(rollout_id), [json.dumps(batch)],
        keys.LOG_TTL, lease,
    )  # fmt: skip


def read(bus: LogStore, rollout_id: str, epoch: str | None, offset: int) -> LogRead:
    """The entries after `offset` of the log of `epoch`; the whole log when it is another one."""
    key, epoch_key = keys.telemetry(rollout_id), keys.telemetry_epoch(rollout_id)
    now_epoch, raw = bus.log_read(key, epoch_key, offset)
    restarted = epoch is not None and now_epoch != epoch
    if restarted and offset > 0:
        now_epoch, raw = bus.log_read(key, epoch_key, 0)
    # every entry was written by `append` from checked lines: they are not validated again
    batches = [[logged_line(d) for d in json.loads(e)] for e in raw]
    return LogRead(now_epoch, 0 if restarted else offset, batches, restarted)
