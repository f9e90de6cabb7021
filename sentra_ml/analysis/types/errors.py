"""Typed errors of the analysis core's value types; each message names the field and the problem."""

from __future__ import annotations


class SpecError(ValueError):
    """A rollout or metric spec is invalid; the message names the field."""


class SampleError(ValueError):
    """A telemetry sample is invalid; the message names the field and the problem."""
