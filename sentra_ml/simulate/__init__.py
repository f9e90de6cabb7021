"""Seeded telemetry simulator with a library of faults."""

from sentra_ml.simulate.faults import (
    Combined,
    EnvironmentIncident,
    ErrorRamp,
    ErrorStep,
    Fault,
    GaugeShift,
    IntermittentBursts,
    LatencyShift,
    NoFault,
    Saturation,
    SlowDrift,
    TailLatency,
    TickParams,
)
from sentra_ml.simulate.history import learned_history
from sentra_ml.simulate.scenario import (
    LATENCY_BUCKETS_MS,
    REFERENCE_WEIGHT,
    Scenario,
    TelemetryGap,
    scenario_library,
    total_rps,
)
from sentra_ml.simulate.service import CPU, ERRORS, LATENCY, MEMORY, METRICS, ServiceModel
from sentra_ml.simulate.simulator import Simulator
from sentra_ml.simulate.spec import default_spec
from sentra_ml.simulate.traffic import Traffic

__all__ = [
    "CPU",
    "ERRORS",
    "LATENCY",
    "LATENCY_BUCKETS_MS",
    "MEMORY",
    "METRICS",
    "REFERENCE_WEIGHT",
    "Combined",
    "EnvironmentIncident",
    "ErrorRamp",
    "ErrorStep",
    "Fault",
    "GaugeShift",
    "IntermittentBursts",
    "LatencyShift",
    "NoFault",
    "Saturation",
    "Scenario",
    "ServiceModel",
    "Simulator",
    "SlowDrift",
    "TailLatency",
    "TelemetryGap",
    "TickParams",
    "Traffic",
    "default_spec",
    "learned_history",
    "scenario_library",
    "total_rps",
]
