"""Telemetry sources: windows of per-cohort samples from a metrics backend."""
