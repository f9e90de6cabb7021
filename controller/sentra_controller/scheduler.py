"""The controller's loop: every interval, a tick for each active rollout, on a bounded pool.

A slow or hanging router or source delays only its own rollout: ticks run concurrently, a
rollout whose previous tick is still running is skipped (counted as an overrun, not stacked),
and each rollout is ticked at its own interval. Rollouts are spread over the replicas: a replica
takes a free lease only while it holds fewer than its share, and one that holds more than its
share (another replica joined) hands one back per round.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor

from sentra_controller.controller import Controller
from sentra_ml.store import keys
from sentra_ml.store.schema import Rollout

log = logging.getLogger("sentra.controller")
LIST_SECONDS = 1.0  # how often the active rollouts are listed from the database
EARLY = 0.05  # a tick this close to its due time runs now rather than a round later
SHED_PER_ROUND = 10  # leases handed back per round by a replica holding more than its share
# a pulled rollout is ticked this long after each multiple of its interval: the source's newest
# sample (Prometheus evaluates on that grid) is then complete and as fresh as it will get
PULL_DELAY = 0.15


class Scheduler:
    """Runs `controller` on wall-clock time in a thread of its own until `stop`."""

    def __init__(self, controller: Controller, *, workers: int = 16) -> None:
        self.controller = controller
        self.pool = ThreadPoolExecutor(workers, thread_name_prefix="sentra-tick")
        self._running: dict[str, Future[object]] = {}
        self._due: dict[str, float] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._replicas = 1
        self.lags: deque[float] = deque(maxlen=100_000)  # how late recent ticks started
        self._listed: list[Rollout] = []
        self._listed_at = -math.inf

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="sentra-controller", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Finish the ticks under way, then hand every lease back."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        self.pool.shutdown(wait=True, cancel_futures=True)
        self.controller.close()

    def _run(self) -> None:
        c = self.controller
        period = min(0.25, c.interval / 4)  # rounds come often; each rollout at its interval
        scheduled = time.monotonic()
        while not self._stop.is_set():
            c.metrics.loop_lag.set(max(0.0, time.monotonic() - scheduled))
            try:
                self.round(time.time())
            except Exception:  # the database or the bus may be briefly away: next round
                log.exception("controller round failed")
                c.metrics.tick_errors.inc()
            scheduled += period
            wait = scheduled - time.monotonic()
            if self._due:  # wake for a tick due before the next round
                wait = min(wait, min(self._due.values()) - EARLY / 2 - time.time())
            self._stop.wait(max(0.0, wait))
            if time.monotonic() - scheduled > 5 * period:
                scheduled = time.monotonic()  # far behind: skip rounds rather than burst

    def round(self, now: float) -> None:
        """Submit the ticks due at `now`."""
        c = self.controller
        rows = self._rows(now)
        share = math.ceil(len(rows) / self._replicas)
        mine = set(c.leases.held())
        for row in rows:
            if now < self._due.get(row.id, -math.inf) - EARLY:
                continue
            running = self._running.get(row.id)
            if running is not None and not running.done():
                c.metrics.overruns.inc()  # once per missed interval, not once per round
                self._due[row.id] = _next_due(row, now, c.interval)
                continue
            if row.id not in mine and len(mine) >= share:
                continue  # another replica's share; it takes the lease if free
            self._due[row.id] = _next_due(row, now, c.interval)
            self._running[row.id] = self.pool.submit(self._tick, row, now)
            mine.add(row.id)
        self._shed(share)
        active = {row.id for row in rows}
        for gone in set(self._due) - active:
            self._due.pop(gone, None)
            self._running.pop(gone, None)
        c.metrics.live_rollouts.set(len(c.leases.held()))

    def _rows(self, now: float) -> list[Rollout]:
        """The active rollouts, listed anew every LIST_SECONDS (each tick re-reads its own)."""
        if now - self._listed_at >= LIST_SECONDS:
            c = self.controller
            self._replicas = max(1, c.bus.heartbeat(keys.CONTROLLERS, c.replica, c.leases.ttl))
            self._listed, self._listed_at = c.active(), now
            c.prune_series(now)
        return self._listed

    def _shed(self, share: int) -> None:
        """Holding more than a share (a replica joined): hand idle leases back, up to
        SHED_PER_ROUND a round, for the newcomer to take."""
        held = self.controller.leases.held()
        excess = min(len(held) - share - 1, SHED_PER_ROUND)
        for rollout_id in held:
            if excess <= 0:
                return
            running = self._running.get(rollout_id)
            if running is None or running.done():
                self.controller.forget(rollout_id)
                self._due.pop(rollout_id, None)
                excess -= 1

    def _tick(self, row: Rollout, now: float) -> object:
        c = self.controller
        started = time.perf_counter()
        lag = max(0.0, time.time() - now)
        self.lags.append(lag)
        c.metrics.tick_lag.observe(lag)
        try:
            return c.tick(row, max(now, time.time()))
        except Exception:
            log.exception("rollout %s: tick failed", row.id)
            c.metrics.tick_errors.inc()
            return None
        finally:
            c.metrics.tick_seconds.observe(time.perf_counter() - started)


def _next_due(row: Rollout, now: float, default: float) -> float:
    """When `row` is ticked next: one interval on, or for a pulled rollout the next multiple of
    its interval plus PULL_DELAY, so that each tick sees a sample that has just completed."""
    interval = _interval(row, default)
    if row.source is None:
        return now + interval
    return (math.floor((now + EARLY - PULL_DELAY) / interval) + 1) * interval + PULL_DELAY


def _interval(row: Rollout, default: float) -> float:
    """The rollout's own interval when its spec sets one (checked at creation), else ours."""
    value = row.spec.get("interval_seconds") if isinstance(row.spec, dict) else None
    return float(value) if isinstance(value, int | float) and 1.0 <= value <= 5.0 else default
