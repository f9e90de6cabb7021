"""Sentra adapters: traffic routers and telemetry sources, behind two small protocols.

- ``traffic.base.TrafficRouter``: ``set_weights`` / ``get_weights`` / ``verify`` / ``finalize``,
  weights in percent per cohort, checked before any backend call (``traffic.weights``).
- ``telemetry.base.TelemetrySource``: ``fetch(metric, cohort, start, end) -> Window``; an empty
  window is "no data", an unreachable backend raises ``errors.Unavailable``.

Backends are created by kind, and an unknown kind is refused (never a default)::

    from sentra_adapters.traffic.registry import routers
    router = routers.create(
        "haproxy", socket="/run/haproxy/admin.sock", backend="checkout",
        servers={"baseline": "v1", "canary": "v2"}, state_file="/var/lib/haproxy/state",
    )

Third-party backends register under the entry-point groups ``sentra.routers`` and
``sentra.sources``. Every failure is an ``errors.AdapterError`` whose message starts with the
backend's name.
"""
