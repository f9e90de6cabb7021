"""Typed adapter errors: each names the backend and the cause, so one place can decide on them."""

from __future__ import annotations


class AdapterError(Exception):
    """A router or source failed; `backend` names it (``nginx``, ``prometheus``...)."""

    def __init__(self, backend: str, cause: str) -> None:
        super().__init__(f"{backend}: {cause}")
        self.backend = backend
        self.cause = cause


class Unavailable(AdapterError):
    """The backend could not be reached, is not running, or did not answer in time."""


class Rejected(AdapterError):
    """The request was refused, by Sentra's own checks before any call or by the backend."""


class Conflict(AdapterError):
    """The backend's state changed under Sentra, or another update is in progress."""


class BadResponse(AdapterError):
    """The backend answered, but not in a form Sentra understands."""


class Misconfigured(AdapterError):
    """The adapter's own configuration is invalid (a missing cohort, an unknown kind...)."""
