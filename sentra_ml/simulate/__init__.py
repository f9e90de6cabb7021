"""Seeded telemetry simulator with a library of faults."""
