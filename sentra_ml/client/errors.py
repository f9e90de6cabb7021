"""What can go wrong talking to the service, each with the exit code a script can gate on."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """`sentra rollouts` exit codes (docs/client.md lists them)."""

    OK = 0
    ENDED_BADLY = 1  # `wait`: the rollout was rolled back or aborted
    USAGE = 2  # bad arguments or an unreadable rollout file (as every `sentra` command)
    UNREACHABLE = 3  # no answer, or a 5xx
    DENIED = 4  # 401 or 403: no token, a wrong token, or a role that may not do this
    NOT_FOUND = 5  # 404: no such rollout
    REFUSED = 6  # 409 or 422: the service refused the request and said why
    TIMED_OUT = 124  # `wait --timeout` ran out (as coreutils' `timeout`)


class ClientError(Exception):
    """A request that did not succeed: the message to show and the exit code."""

    code = ExitCode.UNREACHABLE

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BadUrl(ClientError):
    """`--url` / SENTRA_URL is not an http(s) address."""

    code = ExitCode.USAGE


class ServiceUnreachable(ClientError):
    code = ExitCode.UNREACHABLE


class AccessDenied(ClientError):
    code = ExitCode.DENIED


class RolloutNotFound(ClientError):
    code = ExitCode.NOT_FOUND


class RequestRefused(ClientError):
    code = ExitCode.REFUSED
