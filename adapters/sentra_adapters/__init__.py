"""Sentra adapters: traffic routers and telemetry sources."""
