"""What every AWS adapter shares: boto3 clients with bounded waits, and AWS errors turned into
Sentra's typed errors that name the backend, the call and AWS's error code."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    HTTPClientError,
    NoCredentialsError,
    NoRegionError,
    ParamValidationError,
    PartialCredentialsError,
)
from botocore.exceptions import ConnectionError as BotoConnectionError
from botocore.parsers import ResponseParserError

from sentra_adapters.errors import (
    AdapterError,
    BadResponse,
    Conflict,
    Misconfigured,
    Rejected,
    Unavailable,
)

_UNAVAILABLE = {
    "Throttling",
    "ThrottlingException",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "ServiceUnavailable",
    "ServiceUnavailableException",
    "ServiceException",
    "InternalFailure",
    "InternalError",
}
_CONFLICT = {"PreconditionFailedException", "ResourceConflictException"}


def aws_client(
    service: str,
    *,
    region: str | None,
    endpoint_url: str | None,
    timeout: float,
    max_attempts: int,
) -> Any:
    """A boto3 client with bounded timeouts and retries (botocore waits 60 s by default), from
    a session of its own: boto3's shared default session would cache the first credentials."""
    config = Config(
        connect_timeout=timeout,
        read_timeout=timeout,
        retries={"mode": "standard", "total_max_attempts": max_attempts},
    )
    session = boto3.session.Session(region_name=region)
    return session.client(service, endpoint_url=endpoint_url, config=config)


def aws_error(backend: str, what: str, error: Exception) -> AdapterError:
    """The typed error for a failed boto3 call `what`: no answer, throttling and 5xx are
    Unavailable; a missing resource or credentials Misconfigured; a concurrent change Conflict;
    any other refusal Rejected."""
    if isinstance(error, BotoConnectionError | HTTPClientError):
        return Unavailable(backend, f"{what}: {error}")
    if isinstance(error, NoCredentialsError | PartialCredentialsError | NoRegionError):
        return Misconfigured(backend, f"{what}: {error}")
    if isinstance(error, ParamValidationError):
        return Rejected(backend, f"{what}: {error}")
    if isinstance(error, ResponseParserError):
        return BadResponse(backend, f"{what}: {error}")
    if not isinstance(error, ClientError):
        return Unavailable(backend, f"{what}: {type(error).__name__}: {error}")
    code = error_code(error)
    status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
    message = error.response.get("Error", {}).get("Message") or "no message"
    cause = f"{what}: {code} (HTTP {status}): {message}"
    if code in _UNAVAILABLE or status == 429 or status >= 500:
        return Unavailable(backend, cause)
    if code in _CONFLICT:
        return Conflict(backend, cause)
    if code.endswith(("NotFound", "NotFoundException")) or status == 404:
        return Misconfigured(backend, cause)
    return Rejected(backend, cause)


def error_code(error: ClientError) -> str:
    """The AWS error code of `error` (``ResourceNotFoundException``...)."""
    return str(error.response.get("Error", {}).get("Code", "Unknown"))


def aws_call(backend: str, what: str, call: Callable[..., Any], **params: Any) -> Any:
    """`call(**params)`, its failures turned into typed errors naming `backend` and `what`."""
    try:
        return call(**params)
    except (BotoCoreError, ClientError, ResponseParserError) as e:
        raise aws_error(backend, what, e) from e
