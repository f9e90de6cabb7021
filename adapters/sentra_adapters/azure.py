"""What every Azure adapter shares: ARM clients with bounded waits, long-running operations
awaited with a deadline, and Azure errors turned into Sentra's typed errors that name the backend,
the call and Azure's error code."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from azure.core.exceptions import (
    AzureError,
    ClientAuthenticationError,
    DecodeError,
    DeserializationError,
    HttpResponseError,
    SerializationError,
    ServiceRequestError,
    ServiceResponseError,
)

from sentra_adapters.errors import (
    AdapterError,
    BadResponse,
    Conflict,
    Misconfigured,
    Rejected,
    Unavailable,
)

T = TypeVar("T")


def arm_client(
    factory: Callable[..., T],
    *,
    credential: Any,
    subscription_id: str,
    base_url: str | None,
    timeout: float,
    connection_verify: bool | str | None,
) -> T:
    """An ARM management client with bounded timeouts and no hidden retries (azure-core
    retries 10 times by default; Sentra's tick is the retry loop). Without a `credential`,
    azure-identity's default chain is used; it fails, as Misconfigured, at the first call."""
    if credential is None:
        from azure.identity import DefaultAzureCredential

        credential = DefaultAzureCredential()
    options: dict[str, Any] = {
        "retry_total": 0,
        "connection_timeout": timeout,
        "read_timeout": timeout,
    }
    if base_url is not None:
        options["base_url"] = base_url
    if connection_verify is not None:
        options["connection_verify"] = connection_verify
    return factory(credential=credential, subscription_id=subscription_id, **options)


def azure_error(backend: str, what: str, error: Exception) -> AdapterError:
    """The typed error of a failed call `what`: no answer, 429 and 5xx are Unavailable;
    credentials refused, 403 and 404 Misconfigured; 409 and 412 Conflict; other refusals (and
    a long-running operation that failed) Rejected; an answer that does not parse BadResponse."""
    if isinstance(error, ClientAuthenticationError):
        return Misconfigured(backend, f"{what}: credentials refused: {_message(error)}")
    if isinstance(error, DecodeError | DeserializationError | SerializationError):
        return BadResponse(backend, f"{what}: the answer does not parse: {error}")
    if isinstance(error, HttpResponseError):
        status = int(error.status_code or 0)
        cause = f"{what}: HTTP {status}: {_message(error)}"
        if status in (0, 429) or status >= 500:
            return Unavailable(backend, cause)
        if status in (403, 404):
            return Misconfigured(backend, cause)
        if status in (409, 412):
            return Conflict(backend, cause)
        return Rejected(backend, cause)
    if isinstance(error, ServiceRequestError) and "non-TLS" in str(error):
        return Misconfigured(backend, f"{what}: {error}")  # a bearer token over plain HTTP
    if isinstance(error, ServiceRequestError | ServiceResponseError):
        return Unavailable(backend, f"{what}: {type(error).__name__}: {error}")
    if isinstance(error, ValueError | KeyError | TypeError | AttributeError):
        return BadResponse(backend, f"{what}: unexpected answer: {error!r}")
    return Unavailable(backend, f"{what}: {type(error).__name__}: {error}")


def azure_call(backend: str, what: str, call: Callable[..., T], *args: Any, **kw: Any) -> T:
    """`call(*args, **kw)`, its failures turned into typed errors naming `backend` and `what`."""
    try:
        return call(*args, **kw)
    except (AzureError, ValueError, KeyError, TypeError, AttributeError) as e:
        raise azure_error(backend, what, e) from e


def await_operation(backend: str, what: str, poller: Any, timeout: float) -> Any:
    """The result of a long-running operation's `poller`; Unavailable when it is not finished
    within `timeout` s (the change may still land: the next read will tell)."""
    try:
        result = poller.result(timeout=timeout)
        if not poller.done():
            raise Unavailable(backend, f"{what}: the operation did not finish in {timeout:g} s")
        return result
    except (AzureError, ValueError, KeyError, TypeError, AttributeError) as e:
        raise azure_error(backend, f"{what} (long-running operation)", e) from e


def _message(error: AzureError) -> str:
    """Azure's error code and message: ARM's ``{"error": {...}}`` or App Service's
    ``{"Code": ..., "Message": ...}``, else the HTTP reason."""
    odata = getattr(error, "error", None)
    if odata is not None and getattr(odata, "code", None):
        return f"{odata.code}: {odata.message}"
    response = getattr(error, "response", None)
    try:
        body = response.json() if response is not None else None
    except Exception:  # not JSON: fall back to the reason
        body = None
    if isinstance(body, dict):
        error_body = body.get("error")
        inner: dict[str, Any] = error_body if isinstance(error_body, dict) else body
        code = inner.get("code") or inner.get("Code")
        message = inner.get("message") or inner.get("Message")
        if code or message:
            return f"{code}: {message}"
    reason = getattr(error, "reason", None)
    return str(reason or error.message or "no detail")
