"""What a controller keeps in memory of a rollout it holds, and how it rebuilds that on taking
the lease: the judge replayed from the log, the router and source built from the rollout's
config, and open router intents reconciled with what the router reads back."""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sentra_adapters.errors import AdapterError, Misconfigured
from sentra_adapters.registry import Registry
from sentra_adapters.telemetry.base import TelemetrySource
from sentra_adapters.traffic.base import TrafficRouter
from sqlalchemy.orm import Session

from sentra_controller.apply import WeightApplier
from sentra_controller.checkpoints import Checkpoints
from sentra_controller.judging import LogSession
from sentra_controller.policies import StepPolicies
from sentra_controller.pull import Puller
from sentra_controller.record import last_recorded
from sentra_ml.analysis.judge import RolloutJudge
from sentra_ml.spec import parse_spec
from sentra_ml.store import weight_changes as ledger
from sentra_ml.store.live_state import LiveState
from sentra_ml.store.schema import Rollout


@dataclass
class Tracked:
    session: LogSession
    token: int
    applier: WeightApplier | None  # None: the rollout has no target (its CD system acts)
    puller: Puller | None  # None: telemetry is pushed
    applied: float | None  # the canary weight verified in force; None before the first
    unconfirmed: bool = False  # an intent may be open: reconcile before anything else
    stored_applied: float | None = None  # the applied weight the database holds
    recorded: tuple[str, float] | None = None  # (action, weight) of the last decision
    failures: int = 0  # router attempts in a row that did not reach the weights
    retry_at: float = -math.inf
    last_error: str = ""
    failing_since: float | None = None  # the first judging error of the current streak
    saved: float = -math.inf  # when the service learner was last saved (the judge's clock)
    model: str = ""  # what judges it: the judge's version and the learner's registered model
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def routed(self) -> bool:
        return self.applier is not None


class _Broken:
    """Stands in for a router or source whose config cannot be built: every call fails with
    the reason, so the rollout goes through the same fail-safe paths as for an outage."""

    kind = "broken"
    resolution = 0.1

    def __init__(self, error: AdapterError) -> None:
        self.error = error

    def __getattr__(self, name: str) -> Callable[..., Any]:
        def fail(*_: Any, **__: Any) -> Any:
            raise self.error

        return fail


def _build(factory: Callable[[], Any]) -> Any:
    try:
        return factory()
    except AdapterError as err:
        return _Broken(err)
    except (TypeError, ValueError) as err:  # unknown or missing options in the config
        return _Broken(Misconfigured("config", str(err)))


def open_tracked(
    row: Rollout,
    token: int,
    *,
    sessions: Callable[[], Session],
    live: LiveState,
    checkpoints: Checkpoints,
    policies: StepPolicies,
    routers: Registry[TrafficRouter],
    sources: Registry[TelemetrySource],
    interval: float,
) -> Tracked:
    """Rebuild the rollout's state from the database, the log and the router."""
    spec, policy = policies.start(row.id, parse_spec(row.spec), row.spec)
    routed = row.target is not None
    learner = checkpoints.start(row.id, spec.service)
    judge = RolloutJudge(spec, row.created_at, learner, follows_advice=not routed)
    session = LogSession(rollout_id=row.id, spec=spec, judge=judge, interval=interval)
    applier = None
    applied = None
    unconfirmed = False
    if row.target is not None:
        router = _build(lambda: routers.from_config(row.target or {}, "target"))
        applier = WeightApplier(router, sessions, row.id)
        with sessions() as db:
            reached = ledger.reached(session=db, rollout_id=row.id)
            open_intents = bool(ledger.unsettled(session=db, rollout_id=row.id))
        session.changes = [(c.ts, c.weight) for c in reached if 0.0 < c.weight < 100.0]
        applied = row.applied_weight
        if open_intents:
            in_force = applier.reconcile()
            unconfirmed = in_force is None
            applied = applied if in_force is None else in_force
    puller = None
    if row.source is not None:
        source = _build(lambda: sources.from_config(row.source or {}, "source"))
        puller = Puller(source, spec, row.created_at)
    tracked = Tracked(session, token, applier, puller, applied, unconfirmed)
    tracked.stored_applied = row.applied_weight
    tracked.recorded = last_recorded(sessions, row.id)
    tracked.failing_since = _failing_since(live, row.id)
    tracked.model = checkpoints.model(spec.service)
    if policy.version:
        tracked.model += f", steps {policy.version}"
    return tracked


def _failing_since(live: LiveState, rollout_id: str) -> float | None:
    """A judging-error streak survives a restart: its start is in the stored verdict."""
    since = (live.latest(rollout_id) or {}).get("failing_since")
    return None if since is None else float(since)
