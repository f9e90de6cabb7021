"""The service's rollout endpoints over HTTP, as a small typed client (httpx)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx

from sentra_ml.client.errors import (
    AccessDenied,
    BadUrl,
    ClientError,
    RequestRefused,
    RolloutNotFound,
    ServiceUnreachable,
)

TOKEN_HINT = "set SENTRA_TOKEN (or --token) to a token from `sentra token create`"


class SentraClient:
    """`/v1/rollouts` of one service; each method returns the decoded JSON or raises a
    `ClientError` that says what went wrong and where."""

    def __init__(self, url: str, token: str | None = None, *, timeout: float = 10.0) -> None:
        try:
            parsed = httpx.URL(url)
        except httpx.InvalidURL as e:
            raise BadUrl(f"--url: '{url}' is not a URL ({e})") from None
        if parsed.scheme not in ("http", "https") or not parsed.host:
            raise BadUrl(f"--url: '{url}' must be an http:// or https:// address")
        self.url = str(parsed).rstrip("/")
        self.token = token or None
        self.timeout = timeout
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        self._http = httpx.Client(base_url=self.url, headers=headers, timeout=timeout)

    def __enter__(self) -> SentraClient:
        return self

    def __exit__(self, *_: object) -> None:
        self._http.close()

    def create(self, body: dict[str, Any]) -> dict[str, Any]:
        """Start a rollout: `body` is what `POST /v1/rollouts` takes."""
        return self._call("POST", "/v1/rollouts", json=body)

    def list(
        self, *, service: str | None = None, state: str | None = None, limit: int = 50
    ) -> dict[str, Any]:
        """A page of rollouts, newest first: `items`, `total`, `limit`, `offset`."""
        params: dict[str, str | int] = {"limit": limit}
        if service is not None:
            params["service"] = service
        if state is not None:
            params["state"] = state
        return self._call("GET", "/v1/rollouts", params=params)

    def get(self, rollout_id: str) -> dict[str, Any]:
        return self._call("GET", f"/v1/rollouts/{_segment(rollout_id)}")

    def verdict(self, rollout_id: str) -> dict[str, Any]:
        """`state`, `age_seconds` and the latest `verdict` (null before the first)."""
        return self._call("GET", f"/v1/rollouts/{_segment(rollout_id)}/verdict")

    def act(self, rollout_id: str, action: str, reason: str) -> dict[str, Any]:
        """Pause, resume, promote or abort; the reason goes into the audit trail."""
        body = {"action": action, "reason": reason}
        return self._call("POST", f"/v1/rollouts/{_segment(rollout_id)}/actions", json=body)

    def _call(self, method: str, path: str, **kw: Any) -> dict[str, Any]:
        try:
            response = self._http.request(method, path, **kw)
        except httpx.TimeoutException:
            raise ServiceUnreachable(
                f"no answer from {self.url} within {self.timeout:g} s"
            ) from None
        except httpx.TransportError as e:
            raise ServiceUnreachable(
                f"cannot reach the service at {self.url} ({_cause(e)}); "
                "is `sentra serve` running there? (--url / SENTRA_URL)"
            ) from None
        if response.is_success:
            try:
                body = response.json()
            except ValueError:
                raise ServiceUnreachable(
                    f"{self.url} answered {response.status_code} with a body that is not JSON; "
                    "is it a Sentra service?"
                ) from None
            if not isinstance(body, dict):
                raise ServiceUnreachable(f"{self.url}{path} answered JSON that is not an object")
            return body
        raise error_for(response)


def error_for(response: httpx.Response) -> ClientError:
    """The `ClientError` of a failed answer, with the service's detail."""
    status = response.status_code
    detail = describe(response)
    if status == 401:
        return AccessDenied(f"401 unauthorized: {detail} ({TOKEN_HINT})")
    if status == 403:
        return AccessDenied(f"403 forbidden: {detail}")
    if status == 404 and detail == "Not Found":  # no route: not a rollout the service named
        where = response.request.url
        return RolloutNotFound(
            f"404 not found: no {where.raw_path.decode()} at {where.host}:"
            f"{where.port} (is --url / SENTRA_URL a Sentra service?)"
        )
    if status == 404:
        return RolloutNotFound(f"404 not found: {detail}")
    if status in (409, 422):
        return RequestRefused(f"{status} refused: {detail}")
    if 400 <= status < 500:
        return RequestRefused(f"{status}: {detail}")
    return ServiceUnreachable(f"the service failed ({status}): {detail}")


def describe(response: httpx.Response) -> str:
    """The service's `detail`: a message, or validation errors as 'field.path: problem'."""
    try:
        detail = response.json().get("detail")
    except (ValueError, AttributeError):
        text = response.text.strip()
        return text[:300] if text else response.reason_phrase
    if isinstance(detail, str):
        return detail
    if isinstance(detail, list):
        return "; ".join(_field_error(item) for item in detail) or response.reason_phrase
    return response.reason_phrase


def _field_error(item: Any) -> str:
    if not isinstance(item, dict):
        return str(item)
    loc = [str(p) for p in item.get("loc", [])]
    if loc[:1] == ["body"] and len(loc) > 1:
        loc = loc[1:]  # the body's own fields, as the user wrote them in the file
    where = ".".join(loc)
    message = str(item.get("msg", ""))
    return f"{where}: {message}" if where else message


def _segment(rollout_id: str) -> str:
    """The id as one path segment: a '/' or '?' in it must not reach another route."""
    return quote(rollout_id, safe="")


def _cause(error: httpx.TransportError) -> str:
    text = str(error).strip()
    if "Connection refused" in text or "[Errno 111]" in text:
        return "connection refused"
    return text or error.__class__.__name__
