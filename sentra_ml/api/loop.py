"""The evaluation loop: every interval, judge each active rollout whose lease this replica holds.

It runs on wall-clock time, so a rollout whose telemetry stops is still judged: it pauses, then
rolls back after the grace period (fail-safe). One failing rollout is logged and skipped; the
loop carries on.
"""

from __future__ import annotations

import asyncio
import logging
import time

from sentra_ml.api.deps import Services
from sentra_ml.store import audit

log = logging.getLogger("sentra.loop")


def run_round(svc: Services, now: float) -> int:
    """One round; returns how many rollouts were judged here."""
    with svc.sessions() as session:
        rollouts = list(audit.active_rollouts(session=session))
    judged = 0
    for rollout in rollouts:
        try:
            verdict = svc.live.tick(rollout, now)
        except Exception:  # a broken rollout must not stop the others being judged
            log.exception("judging rollout %s failed", rollout.id)
            continue
        if verdict is not None:
            judged += 1
            svc.metrics.verdicts.labels(str(verdict["action"])).inc()
    svc.metrics.live_rollouts.set(judged)
    return judged


async def evaluation_loop(svc: Services) -> None:
    interval = svc.settings.evaluation_interval_seconds
    scheduled = time.monotonic()
    while True:
        svc.metrics.loop_lag.set(max(0.0, time.monotonic() - scheduled))
        started = time.perf_counter()
        try:
            await asyncio.to_thread(run_round, svc, time.time())
        except Exception:  # the database may be briefly away; try again next round
            log.exception("evaluation round failed")
        svc.metrics.loop_seconds.observe(time.perf_counter() - started)
        scheduled += interval
        await asyncio.sleep(max(0.0, scheduled - time.monotonic()))
