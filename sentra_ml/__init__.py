"""Sentra: live telemetry into rollout decisions."""
