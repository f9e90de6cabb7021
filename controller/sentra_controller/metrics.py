"""Prometheus metrics of one controller (its own registry, or the API's when in-process)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class ControllerMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.verdicts = Counter(
            "sentra_verdicts_total", "Verdicts computed, by action", ["action"], registry=r
        )
        self.loop_lag = Gauge(
            "sentra_loop_lag_seconds",
            "How late the last round started against its schedule",
            registry=r,
        )
        self.tick_seconds = Histogram(
            "sentra_tick_seconds", "Duration of one rollout's tick (telemetry, judge, router)",
            buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10), registry=r,
        )  # fmt: skip
        self.tick_lag = Histogram(
            "sentra_tick_lag_seconds", "How late a rollout's tick started against its schedule",
            buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10), registry=r,
        )  # fmt: skip
        self.overruns = Counter(
            "sentra_tick_overruns_total",
            "Ticks not started because the rollout's previous tick was still running",
            registry=r,
        )
        self.live_rollouts = Gauge(
            "sentra_live_rollouts", "Rollouts whose lease this replica holds", registry=r
        )
        self.judging_errors = Counter(
            "sentra_judging_errors_total",
            "Exceptions while judging a rollout (each counts as no verdict)",
            registry=r,
        )
        self.tick_errors = Counter(
            "sentra_tick_errors_total",
            "Ticks that failed outside judging (database or bus away)",
            registry=r,
        )
        self.router_errors = Counter(
            "sentra_router_errors_total", "Router calls that failed, by kind", ["kind"], registry=r
        )
        self.source_errors = Counter(
            "sentra_source_errors_total", "Telemetry pulls that failed, by kind", ["kind"],
            registry=r,
        )  # fmt: skip
        self.failed_rollbacks = Gauge(
            "sentra_failed_rollbacks",
            "Rollouts whose rollback the router keeps refusing (state failed)",
            registry=r,
        )
        self.takeovers = Counter(
            "sentra_lease_takeovers_total", "Leases this replica took", registry=r
        )
