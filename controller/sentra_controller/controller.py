"""The controller: for each rollout whose lease it holds, one tick per interval (see `tick`), with
the state kept in the database and on the bus, never only in memory."""

from __future__ import annotations

import logging
import math
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from sentra_adapters.errors import AdapterError
from sentra_adapters.registry import Registry
from sentra_adapters.telemetry.base import TelemetrySource
from sentra_adapters.telemetry.registry import sources as default_sources
from sentra_adapters.traffic.base import TrafficRouter
from sentra_adapters.traffic.registry import routers as default_routers
from sqlalchemy import select
from sqlalchemy.orm import Session

from sentra_controller import record
from sentra_controller.checkpoints import Checkpoints
from sentra_controller.leases import Leases
from sentra_controller.metrics import ControllerMetrics
from sentra_controller.policies import StepPolicies
from sentra_controller.tick import next_state, no_verdict
from sentra_controller.traces import Found, TraceLinker, attach
from sentra_controller.tracked import Tracked, open_tracked
from sentra_ml.store import audit, fences, keys, series, telemetry_log
from sentra_ml.store.bus import Bus
from sentra_ml.store.learners import LearnerStore
from sentra_ml.store.live_state import LiveState
from sentra_ml.store.schema import Rollout
from sentra_ml.store.states import TERMINAL, State

log = logging.getLogger("sentra.controller")
SERIES_RETENTION_SECONDS = 30 * 86400.0
PRUNE_EVERY_SECONDS = 3600.0


class Controller:
    """Judges and acts on rollouts; several replicas share them through leases on the bus."""

    def __init__(
        self,
        *,
        sessions: Callable[[], Session],
        bus: Bus,
        interval: float = 2.0,
        lease_seconds: float = 10.0,
        learners: LearnerStore | None = None,
        metrics: ControllerMetrics | None = None,
        routers: Registry[TrafficRouter] = default_routers,
        sources: Registry[TelemetrySource] = default_sources,
        on_verdict: Callable[[dict[str, Any]], None] | None = None,
        live: LiveState | None = None,
        series_retention_seconds: float = SERIES_RETENTION_SECONDS,
    ) -> None:
        """`live`: the read side's LiveState when the API runs in this process, so that its
        read cache forgets what this controller changes at once. `series_retention_seconds`:
        how long a finished rollout's series are kept."""
        self.sessions = sessions
        self.bus = bus
        self.interval = interval
        self.replica = uuid.uuid4().hex
        self.leases = Leases(bus, self.replica, lease_seconds)
        self.live = live or LiveState(bus)
        self.checkpoints = Checkpoints(bus, learners)
        self.policies = StepPolicies(bus, learners)
        self.metrics = metrics or ControllerMetrics()
        self.routers = routers
        self.sources = sources
        self.on_verdict = on_verdict
        self.traces = TraceLinker(self._traces_found)
        self._tracked: dict[str, Tracked] = {}
        self._lock = threading.Lock()
        self._verdict_lock = threading.Lock()  # a verdict and its traces: one write at a time
        self.series_retention_seconds = series_retention_seconds
        self._pruned_at = -math.inf

    def active(self) -> list[Rollout]:
        with self.sessions() as session:
            return list(audit.active_rollouts(session=session))

    def tick(self, row: Rollout, now: float) -> dict[str, Any] | None:
        """Judge and act on `row` at `now` if this replica holds its lease; the verdict. The
        rollout is read anew first: a person's action is obeyed at the next tick."""
        with self.sessions() as session:  # only what changes after creation: a cheap read
            fresh = session.execute(
                select(Rollout.state, Rollout.ending).where(Rollout.id == row.id)
            ).first()
        if fresh is None:
            self.forget(row.id)
            return None
        row.state, row.ending = fresh
        if State(row.state) in TERMINAL:
            self.forget(row.id)
            return None
        held = self.leases.hold(row.id)
        if held is None:
            self.forget(row.id, release=False)
            return None
        tracked = self._tracked.get(row.id)
        if held.new or tracked is None or tracked.token != held.token:
            tracked = self._take(row, held.token)
            if tracked is None:
                return None
        try:
            with tracked.lock:
                return self._tick(tracked, row, now)
        except fences.LeaseLost as lost:
            log.warning("%s; handing the rollout over", lost)
            self.forget(row.id, release=False)
            return None

    def _take(self, row: Rollout, token: int) -> Tracked | None:
        try:
            with self.sessions() as session, session.begin():
                previous = fences.claim(session=session, rollout_id=row.id, token=token)
        except fences.LeaseLost as lost:  # the bus lost its counter: lift it, retry next round
            self.leases.lift(row.id, lost.newest)
            return None
        mine = self._tracked.get(row.id)
        if mine is not None and previous == mine.token:
            # re-taken by this replica with nobody in between (the bus lost the lease, say):
            # what it holds in memory is still the truth, and may know more than the log
            mine.token = token
            return mine
        tracked = open_tracked(
            row, token, sessions=self.sessions, live=self.live, checkpoints=self.checkpoints,
            policies=self.policies, routers=self.routers, sources=self.sources,
            interval=self.interval,
        )  # fmt: skip
        with self._lock:
            self._tracked[row.id] = tracked
        self.metrics.takeovers.inc()
        return tracked

    def _tick(self, tracked: Tracked, row: Rollout, now: float) -> dict[str, Any]:
        session = tracked.session
        self._pull(tracked, now)
        event: tuple[str, str, dict[str, Any]] | None = None
        try:
            consumed = session.consume(self.bus, now)
            if consumed.restarted:
                why = (
                    "the telemetry log was lost by the bus (a Redis restart without "
                    "persistence?) and begun anew: batches accepted since the last tick may "
                    "be lost; judging goes on from the new log"
                )
                event = ("telemetry", why, {"offset": session.offset})
            verdict = session.evaluate(now)
            data: dict[str, Any] = {**verdict.to_dict(), "action": verdict.action}
            tracked.failing_since = None
            if float(data["ts"]) < now:  # a final verdict sticks; this tick's copy is fresh
                data["decided_at"], data["ts"] = data["ts"], now
        except Exception as err:  # any failure to judge is "no verdict", never "keep the old"
            log.exception("rollout %s: judging failed", row.id)
            self.metrics.judging_errors.inc()
            data = no_verdict(tracked, now, err)
            if event is None:
                event = ("judging_error", data["reasons"][0], {"error": data["judging_error"]})
        data["rollout_id"] = row.id
        data["model"] = tracked.model
        started = State(row.state)
        state = next_state(tracked, started, State(row.ending) if row.ending else None, data)
        if state is State.FAILED and started is not State.FAILED:
            event = ("alarm", f"rollback not applied: {tracked.last_error}", {"state": "failed"})
        key = (str(data["action"]), float(data["weight"]))
        points = session.window.drain(now, data, session.judge)
        written = record.write(
            self.sessions, rollout_id=row.id, token=tracked.token, verdict=data,
            decided=key != tracked.recorded, started=started, state=state,
            reason=str((data.get("reasons") or [data["action"]])[0]),
            applied=tracked.applied if tracked.applied != tracked.stored_applied else None,
            event=event, points=points,
        )  # fmt: skip
        if written is None:
            self.forget(row.id)
            return data
        if key != tracked.recorded or written.state is not started:
            log.info(
                "rollout %s (%s): %s at %g %%, %s: %s", row.id, row.service, key[0], key[1],
                written.state, "; ".join(str(r) for r in data["reasons"][:2]),
            )  # fmt: skip
        tracked.recorded, tracked.stored_applied = key, tracked.applied
        self._publish(tracked, row, data, written)
        tracked.saved = self.checkpoints.save(
            session.spec.service, session.judge, tracked.saved, session.clock
        )
        if written.state in TERMINAL:
            self.forget(row.id)
        return data

    def _pull(self, tracked: Tracked, now: float) -> None:
        if tracked.puller is None:
            return
        try:
            lines = tracked.puller.pull(tracked.session.since, now)
        except AdapterError as err:  # the judge sees the telemetry go stale: pause, roll back
            self.metrics.source_errors.labels(err.backend).inc()
            log.warning("rollout %s: source: %s", tracked.session.rollout_id, err)
            return
        if lines:
            telemetry_log.append(self.bus, tracked.session.rollout_id, lines, self.replica)

    def _publish(
        self, tracked: Tracked, row: Rollout, data: dict[str, Any], written: record.Written
    ) -> None:
        self.traces.ask(row.id, row.traces, tracked.session.spec, data, row.created_at)
        with self._verdict_lock:
            attach(data, self.traces.found(row.id))
            self.live.put_verdict(row.id, self.replica, data)
        self.live.set_state(row.id, written.state)  # refreshed every tick (it expires)
        self.live.announce(row.id, {"type": "verdict", **data})
        for message in written.messages:
            self.live.announce(row.id, message)
        self.metrics.verdicts.labels(str(data["action"])).inc()
        if self.on_verdict is not None:
            self.on_verdict(data)

    def _traces_found(self, rollout_id: str, found: Found) -> None:
        """Into the audit trail and onto the stream; the stored verdict gets them at once,
        since a finished rollout has no later verdict to carry them."""
        reason = found.reason()
        with self.sessions() as session, session.begin():
            audit.add_event(
                session=session, rollout_id=rollout_id, kind="traces", actor="tempo",
                reason=reason, payload=found.to_dict(),
            )  # fmt: skip
        with self._verdict_lock:
            stored = self.live.latest(rollout_id)
            if stored is not None and attach(stored, [found]):
                self.live.amend_verdict(rollout_id, stored)
        message = {"type": "traces", "rollout_id": rollout_id, "reason": reason, **found.to_dict()}
        self.live.announce(rollout_id, message)

    def forget(self, rollout_id: str, *, release: bool = True) -> None:
        with self._lock:
            self._tracked.pop(rollout_id, None)
        self.traces.forget(rollout_id)
        if release:
            self.leases.release(rollout_id)
        else:
            self.leases.drop(rollout_id)

    def prune_series(self, now: float) -> int | None:
        """Delete the series of rollouts ended more than the retention period ago, at most
        once every PRUNE_EVERY_SECONDS; how many points (None: not due)."""
        if now - self._pruned_at < PRUNE_EVERY_SECONDS:
            return None
        self._pruned_at = now
        with self.sessions() as session, session.begin():
            pruned = series.prune(
                session=session, now=now, retention_seconds=self.series_retention_seconds
            )
        if pruned:
            log.info("pruned %d series points of rollouts ended long ago", pruned)
        return pruned

    def tracked(self, rollout_id: str) -> Tracked | None:
        return self._tracked.get(rollout_id)

    def close(self) -> None:
        """Hand every lease back and leave the replicas' heartbeats, so that another replica
        takes over at once."""
        self.leases.release_all()
        try:
            self.bus.leave(keys.CONTROLLERS, self.replica)
        except Exception as err:  # the bus may be away at shutdown; the heartbeat then expires
            log.warning("leaving the controllers' heartbeats: %s", err)
        self.traces.close()

    def run_round(self, now: float | None = None) -> int:
        """Tick every active rollout once, one after another (tests and tools); how many
        were judged here."""
        now = time.time() if now is None else now
        judged = 0
        for row in self.active():
            if self.tick(row, now) is not None:
                judged += 1
        self.metrics.live_rollouts.set(len(self._tracked))
        return judged
