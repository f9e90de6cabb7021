"""Every Redis key and channel name Sentra uses. A rollout's keys hold the hash tag
`{rollout id}`, so that on Redis Cluster all keys of one rollout live in one slot and a Lua script
may touch several of them."""

from __future__ import annotations

LOG_TTL = 24 * 3600.0
VERDICT_TTL = 3600.0
CONTROLLERS = "sentra:controllers"  # sorted set of live controller replicas
EVENTS = "sentra:events"  # the channel of every rollout's events
CHANNELS = "sentra:*"  # the pattern a Redis bus listens on: every channel above and below


def rollout_events(rollout_id: str) -> str:
    """The channel of one rollout's events."""
    return f"sentra:rollout:{rollout_id}"


def learner(service: str) -> str:
    """A service learner's latest checkpoint (not a rollout's: it outlives them)."""
    return f"sentra:learner:{service}"


def _key(rollout_id: str, what: str) -> str:
    return f"sentra:{{{rollout_id}}}:{what}"


def telemetry(rollout_id: str) -> str:
    """The rollout's telemetry log: one JSON list of lines per accepted batch."""
    return _key(rollout_id, "telemetry")


def telemetry_epoch(rollout_id: str) -> str:
    """A random id made with the log: a log that was lost and begun anew has another one."""
    return _key(rollout_id, "telemetry-epoch")


def verdict(rollout_id: str) -> str:
    return _key(rollout_id, "verdict")


def state(rollout_id: str) -> str:
    return _key(rollout_id, "state")


def lease(rollout_id: str) -> str:
    return _key(rollout_id, "lease")


def fence(rollout_id: str) -> str:
    """The fencing counter: every lease taken gets the next value."""
    return _key(rollout_id, "fence")


def learner_start(rollout_id: str) -> str:
    """The service learner's checkpoint as the rollout began (for exact replays)."""
    return _key(rollout_id, "learner-start")


def otlp_streams(rollout_id: str) -> str:
    """The last point of each OTLP stream (cumulative to per-interval)."""
    return _key(rollout_id, "otlp")


def policy_start(rollout_id: str) -> str:
    """The learned step policy the rollout began with (for takeovers and exact replays)."""
    return _key(rollout_id, "policy-start")
