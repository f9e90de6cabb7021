"""The Kubernetes API for Sentra's routers: a client, typed errors, and optimistic updates.

Objects are handled as plain JSON (``_preload_content=False``), so that fields the Python
models do not know (a newer Gateway API, annotations) survive a read-modify-write unchanged.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

import urllib3
from kubernetes import client as k8s
from kubernetes import config as kubeconfig
from kubernetes.client.exceptions import ApiException
from kubernetes.config.config_exception import ConfigException

from sentra_adapters.errors import (
    AdapterError,
    BadResponse,
    Conflict,
    Misconfigured,
    Rejected,
    Unavailable,
)

JSON_PATCH = "application/json-patch+json"  # the client sends merge-patch unless told
T = TypeVar("T")


def api_client(
    backend: str, host: str | None = None, kubeconfig_context: str | None = None
) -> k8s.ApiClient:
    """A client for `host` (no auth, e.g. ``kubectl proxy``), or else in-cluster credentials,
    or else the kubeconfig (`kubeconfig_context`, or its current context)."""
    configuration = k8s.Configuration()
    if host is not None:
        configuration.host = host
    else:
        try:
            kubeconfig.load_incluster_config(client_configuration=configuration)
        except ConfigException:
            try:
                kubeconfig.load_kube_config(
                    context=kubeconfig_context, client_configuration=configuration
                )
            except (ConfigException, OSError) as e:
                raise Misconfigured(backend, f"no cluster credentials: {e}") from e
    # Sentra's tick is the retry loop; urllib3's hidden retries would only slow a failure down
    configuration.retries = False
    return k8s.ApiClient(configuration)


def kube_error(backend: str, what: str, error: Exception) -> AdapterError:
    """The typed error of a failed API call `what`: no answer, 429 and 5xx are Unavailable;
    404, 401 and 403 Misconfigured (a wrong name or missing RBAC); 409 Conflict; other refusals
    (400 admission, 415, 422 validation) Rejected."""
    if not isinstance(error, ApiException):
        return Unavailable(backend, f"{what}: {type(error).__name__}: {error}")
    status = int(error.status or 0)
    cause = f"{what}: HTTP {status}: {_message(error)}"
    if status == 0 or status == 429 or status >= 500:
        return Unavailable(backend, cause)
    if status in (401, 403, 404):
        return Misconfigured(backend, cause)
    if status == 409:
        return Conflict(backend, cause)
    return Rejected(backend, cause)


def call(backend: str, what: str, request: Callable[..., Any], *args: Any, **kw: Any) -> Any:
    """The JSON answer of `request(*args, **kw)`; failures become typed errors."""
    try:
        response = request(*args, _preload_content=False, **kw)
    except (ApiException, urllib3.exceptions.HTTPError) as e:
        raise kube_error(backend, what, e) from e
    try:
        return json.loads(response.data)
    except ValueError as e:
        raise BadResponse(backend, f"{what}: the answer is not JSON: {e}") from e


def resource_version(backend: str, what: str, obj: Any) -> str:
    """`obj`'s ``metadata.resourceVersion``; BadResponse when it has none."""
    version = obj.get("metadata", {}).get("resourceVersion") if isinstance(obj, dict) else None
    if not isinstance(version, str) or not version:
        raise BadResponse(backend, f"{what}: no metadata.resourceVersion in the answer")
    return version


def update(
    backend: str,
    what: str,
    attempts: int,
    read: Callable[[], dict[str, Any]],
    plan: Callable[[dict[str, Any], str], T | None],
    write: Callable[[T], dict[str, Any]],
) -> None:
    """Read, `plan` the write from the object and its resourceVersion (None: nothing to do),
    `write`; on 409 Conflict start over, at most `attempts` times. The answer must need no
    further write, else BadResponse: the server did not store what was sent."""
    for _ in range(attempts):
        current = read()
        change = plan(current, resource_version(backend, what, current))
        if change is None:
            return  # already as wanted: no write, no new resourceVersion
        try:
            answer = write(change)
        except Conflict:
            continue  # someone else wrote in between: look again before writing
        if plan(answer, resource_version(backend, what, answer)) is not None:
            raise BadResponse(backend, f"{what}: the stored object differs from the one written")
        return
    raise Conflict(backend, f"{what} changed under Sentra on each of {attempts} tries")


def _message(error: ApiException) -> str:
    """The ``message`` of the Status object in the body, or the HTTP reason."""
    try:
        body = json.loads(error.body or "")
    except (TypeError, ValueError):
        body = None
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        return str(body["message"])
    return str(error.reason or "no detail")
