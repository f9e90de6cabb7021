"""Live rollouts: telemetry goes into a log on the bus; the one replica holding a rollout's lease
tails that log into its judge, evaluates, records what changed and publishes every verdict.

The log is the analysis checkpoint: a replica that takes over (or restarts) rebuilds the judge by
replaying it, evaluating at the same spacing as live, so its step state comes back too. The
service's learner is saved every SAVE_SECONDS and at the end; the rollout keeps the checkpoint
it started from on the bus, so a replay starts from the same learner and learns nothing twice.
"""

from __future__ import annotations

import base64
import json
import logging
import math
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib.metadata import version
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from sentra_ml.analysis.anomaly import ServiceLearner
from sentra_ml.analysis.judge import RolloutJudge
from sentra_ml.analysis.judge.normal import service_learner
from sentra_ml.analysis.types import RolloutSpec
from sentra_ml.api.traces import Found, TraceLinker, attach
from sentra_ml.ingest import CounterIngest
from sentra_ml.spec import TelemetryLine, parse_spec
from sentra_ml.store import audit
from sentra_ml.store import bus as channels
from sentra_ml.store.bus import Bus
from sentra_ml.store.learners import LearnerStore
from sentra_ml.store.schema import Decision, Rollout
from sentra_ml.store.states import TERMINAL, State, after_verdict

MODEL_VERSION = f"sentra-judge {version('sentra-ml')}"
LOG_TTL = 24 * 3600.0
VERDICT_TTL = 3600.0
READ_CACHE_SECONDS = 0.2
SAVE_SECONDS = 60.0  # a crash loses at most this much of a service's learning

log = logging.getLogger(__name__)


def log_key(rollout_id: str) -> str:
    return f"sentra:telemetry:{rollout_id}"


def verdict_key(rollout_id: str) -> str:
    return f"sentra:verdict:{rollout_id}"


def lease_key(rollout_id: str) -> str:
    return f"sentra:lease:{rollout_id}"


def state_key(rollout_id: str) -> str:
    return f"sentra:state:{rollout_id}"


def learner_start_key(rollout_id: str) -> str:
    return f"sentra:learner-start:{rollout_id}"


def _restored(service: str, checkpoint: bytes) -> ServiceLearner | None:
    try:
        return ServiceLearner.from_bytes(checkpoint)
    except ValueError as err:
        log.warning("service %r: learner checkpoint unusable (%s); starting afresh", service, err)
        return None


@dataclass
class _Live:
    spec: RolloutSpec
    judge: RolloutJudge
    state: State
    counters: CounterIngest = field(default_factory=CounterIngest)
    offset: int = 0
    clock: float = -math.inf  # the judge's last evaluation time (it must not go back)
    last: dict[str, Any] | None = None
    recorded: tuple[str, float] | None = None  # (action, weight) of the last recorded decision
    saved: float = -math.inf  # when the service's learner was last saved (the judge's clock)
    lock: threading.Lock = field(default_factory=threading.Lock)


Publish = Callable[[str, dict[str, Any]], None]


class LiveRollouts:
    """The rollouts this replica judges, keyed by id."""

    def __init__(
        self,
        *,
        sessions: Callable[[], Session],
        bus: Bus,
        interval: float,
        on_verdict: Callable[[dict[str, Any]], None] | None = None,
        learners: LearnerStore | None = None,
    ) -> None:
        self.sessions = sessions
        self.learners = learners
        self.bus = bus
        self.interval = interval
        self.replica = uuid.uuid4().hex
        self.on_verdict = on_verdict
        self._live: dict[str, _Live] = {}
        self._reads: dict[str, tuple[float, State, str | None]] = {}
        self._lock = threading.Lock()
        self.traces = TraceLinker(self._traces_found)
        # a verdict and the traces found for it are written to the bus one at a time
        self._verdict_lock = threading.Lock()

    def append(self, rollout_id: str, lines: Sequence[TelemetryLine]) -> None:
        """Add a checked batch to the rollout's log, as one entry (all or nothing)."""
        batch = [line.model_dump(exclude_defaults=True) for line in lines]
        self.bus.append(log_key(rollout_id), [json.dumps(batch)], LOG_TTL)

    def latest(self, rollout_id: str) -> dict[str, Any] | None:
        live = self._live.get(rollout_id)
        if live is not None and live.last is not None:
            return live.last
        raw = self.bus.get(verdict_key(rollout_id))
        return None if raw is None else dict(json.loads(raw))

    def snapshot(self, rollout_id: str) -> tuple[State | None, str | None]:
        """(state, verdict as JSON) for the read path, at most READ_CACHE_SECONDS old: readers
        on any replica cost the bus one lookup per rollout per period, not one per request."""
        now = time.monotonic()
        hit = self._reads.get(rollout_id)
        if hit is not None and hit[0] > now:
            return hit[1], hit[2]
        state = self.cached_state(rollout_id)
        raw = self.bus.get(verdict_key(rollout_id))
        if state is not None:
            self._reads[rollout_id] = (now + READ_CACHE_SECONDS, state, raw)
            if len(self._reads) > 100_000:  # bound memory; it refills on demand
                self._reads.clear()
        return state, raw

    def cached_state(self, rollout_id: str) -> State | None:
        raw = self.bus.get(state_key(rollout_id))
        return None if raw is None else State(raw)

    def cache_state(self, rollout_id: str, state: State) -> None:
        self.bus.put(state_key(rollout_id), state.value, LOG_TTL)
        self._reads.pop(rollout_id, None)

    def owns(self, rollout_id: str) -> bool:
        return self.bus.lease(lease_key(rollout_id), self.replica, max(10.0, 3 * self.interval))

    def announce(self, rollout_id: str, message: dict[str, Any]) -> None:
        """Publish to the rollout's subscribers and to those of every rollout."""
        self.bus.publish(channels.rollout_channel(rollout_id), message)
        self.bus.publish(channels.ALL, message)

    def forget(self, rollout_id: str) -> None:
        with self._lock:
            self._live.pop(rollout_id, None)
        self.traces.forget(rollout_id)

    def close(self) -> None:
        self.traces.close()

    def set_state(self, rollout_id: str, state: State) -> None:
        """A person changed the state; the judge keeps judging unless it is over."""
        if state in TERMINAL:
            self.forget(rollout_id)
            return
        live = self._live.get(rollout_id)
        if live is not None:
            live.state = state

    def tick(self, rollout: Rollout, now: float) -> dict[str, Any] | None:
        """Consume new telemetry and judge at `now`, if this replica holds the lease."""
        if State(rollout.state) in TERMINAL or not self.owns(rollout.id):
            return None
        live = self._open(rollout)
        with live.lock:
            self._consume(live, rollout.id, replay_until=now)
            now = max(now, live.clock)
            verdict = live.judge.evaluate(now)
            live.clock = now
            data = verdict.to_dict()
            data["rollout_id"] = rollout.id
            self.traces.ask(rollout.id, rollout.traces, live.spec, data, rollout.created_at)
            with self._verdict_lock:
                attach(data, self.traces.found(rollout.id))
                self.bus.put(verdict_key(rollout.id), json.dumps(data), VERDICT_TTL)
            live.last = data
            self._save_learner(live, now)
        self._reads.pop(rollout.id, None)
        changes = self._record(rollout.id, live, data)
        self.announce(rollout.id, {"type": "verdict", **data})
        for message in changes:
            self.announce(rollout.id, message)
        if self.on_verdict is not None:
            self.on_verdict(data)
        if live.state in TERMINAL:
            self.forget(rollout.id)
        return data

    def _open(self, rollout: Rollout) -> _Live:
        with self._lock:
            live = self._live.get(rollout.id)
            if live is None:
                spec = parse_spec(rollout.spec)
                judge = RolloutJudge(spec, rollout.created_at, self._learner(rollout.id, spec))
                live = _Live(spec, judge, State(rollout.state))
                live.recorded = self._last_recorded(rollout.id)
                self._live[rollout.id] = live
            return live

    def saved_learner(self, service: str) -> ServiceLearner | None:
        """The service's last saved learner; None without a store or a usable checkpoint."""
        checkpoint = None if self.learners is None else self.learners.load(service)
        return None if checkpoint is None else _restored(service, checkpoint)

    def _learner(self, rollout_id: str, spec: RolloutSpec) -> ServiceLearner | None:
        """The service's learner as it was when this rollout started (None without a store)."""
        if self.learners is None:
            return None
        key = learner_start_key(rollout_id)
        raw = self.bus.get(key)
        if raw is not None:
            learner = _restored(spec.service, base64.b64decode(raw))
        else:
            learner = self.saved_learner(spec.service)
        if learner is None:
            learner = service_learner()
        if raw is None:
            self.bus.put(key, base64.b64encode(learner.to_bytes()).decode(), LOG_TTL)
        return learner

    def _save_learner(self, live: _Live, now: float) -> None:
        normal = live.judge.normal
        if self.learners is None or normal is None or live.saved == math.inf:
            return
        over = live.judge.final is not None
        if over or now - live.saved >= SAVE_SECONDS:
            self.learners.save(live.spec.service, normal.learner.to_bytes())
            live.saved = math.inf if over else now

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
            raw = self.bus.get(verdict_key(rollout_id))
            stored = None if raw is None else json.loads(raw)
            if stored is not None and attach(stored, [found]):
                self.bus.put(verdict_key(rollout_id), json.dumps(stored), VERDICT_TTL)
                self._reads.pop(rollout_id, None)
        message = {"type": "traces", "rollout_id": rollout_id, "reason": reason, **found.to_dict()}
        self.announce(rollout_id, message)

    def _last_recorded(self, rollout_id: str) -> tuple[str, float] | None:
        with self.sessions() as session:
            row = session.scalars(
                select(Decision)
                .where(Decision.rollout_id == rollout_id)
                .order_by(Decision.id.desc())
                .limit(1)
            ).first()
            return None if row is None else (row.action, row.weight)

    def _consume(self, live: _Live, rollout_id: str, replay_until: float) -> None:
        """Observe the log from the offset on; a backlog (a rebuild) is judged as it went,
        every `interval` seconds of telemetry, so the step schedule is rebuilt as well.

        Only entries older than one interval before `replay_until` count as backlog: the fresh
        entries of one tick (say a baseline push, then a canary push) are judged together, so
        an evaluation between them cannot close a window before the second one is observed."""
        entries = self.bus.read_list(log_key(rollout_id), live.offset)
        live.offset += len(entries)
        backlog = len(entries) > 1
        for entry in entries:
            batch = [TelemetryLine.model_validate(d) for d in json.loads(entry)]
            for line in batch:
                sample = live.counters.sample(line)
                if sample is not None:
                    live.judge.observe(sample)
            newest = min(max((line.ts for line in batch), default=-math.inf), replay_until)
            rebuilding = backlog and newest <= replay_until - self.interval
            if rebuilding and newest >= live.clock + self.interval:
                live.judge.evaluate(newest)
                live.clock = newest

    def _record(
        self, rollout_id: str, live: _Live, verdict: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """Write a verdict that changed the action or weight, and the state it leads to."""
        key = (str(verdict["action"]), float(verdict["weight"]))
        if key == live.recorded:
            return []
        messages: list[dict[str, Any]] = []
        with self.sessions() as session, session.begin():
            rollout = session.get(Rollout, rollout_id, with_for_update=True)
            if rollout is None:
                return []
            before = rollout.weight
            audit.record_decision(
                session=session, rollout=rollout, verdict=verdict, model_version=MODEL_VERSION
            )
            if rollout.weight != before:
                messages.append(
                    {"type": "weight", "rollout_id": rollout_id, "weight": rollout.weight,
                     "previous_weight": before, "ts": verdict["ts"]}
                )  # fmt: skip
            state = State(rollout.state)
            target = after_verdict(state, key[0])
            if target is not state:
                reasons = verdict.get("reasons") or [key[0]]
                audit.change_state(
                    session=session,
                    rollout=rollout,
                    state=target,
                    actor="judge",
                    reason=str(reasons[0]),
                    now=float(verdict["ts"]),
                )
                messages.append(
                    {"type": "state", "rollout_id": rollout_id, "state": target.value,
                     "previous_state": state.value, "actor": "judge", "ts": verdict["ts"]}
                )  # fmt: skip
            live.state = target
        self.cache_state(rollout_id, live.state)
        live.recorded = key
        return messages
