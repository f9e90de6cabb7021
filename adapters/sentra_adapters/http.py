"""The one mapping from an HTTP status to Sentra's typed errors, for the adapters that speak HTTP.

429 and 5xx: the backend cannot answer now (Unavailable). 401, 403, 404: the URL, tenant or
credentials are wrong (Misconfigured). Any other 4xx: the backend refused the request, usually the
query (Rejected). Anything else but 200: an answer Sentra does not understand (BadResponse).
"""

from __future__ import annotations

from collections.abc import Mapping

import httpx

from sentra_adapters.errors import BadResponse, Misconfigured, Rejected, Unavailable


def get(
    backend: str,
    client: httpx.Client,
    base: str,
    path: str,
    params: Mapping[str, str],
    tenant: str | None = None,
) -> httpx.Response:
    """GET `base` + `path` (with the ``X-Scope-OrgID`` header of `tenant`, Grafana's
    multi-tenancy); Unavailable naming `base` when it cannot be reached or does not answer in
    time. The status is left to `raise_for_status`."""
    headers = {"X-Scope-OrgID": tenant} if tenant else {}
    try:
        return client.get(f"{base}{path}", params=params, headers=headers)
    except httpx.HTTPError as e:
        raise Unavailable(backend, f"{base}: {type(e).__name__}: {e}") from e


def raise_for_status(
    backend: str, what: str, response: httpx.Response, detail: str | None = None
) -> None:
    """Returns on HTTP 200; otherwise raises the typed error of the status, naming `what` (the
    query or call) and `detail` (default: the start of the body)."""
    status = response.status_code
    if status == 200:
        return
    detail = detail or response.text.strip()[:200] or "no detail"
    if status == 429 or status >= 500:
        raise Unavailable(backend, f"{what}: HTTP {status}: {detail}")
    if status in (401, 403, 404):
        raise Misconfigured(backend, f"{_endpoint(response)}: HTTP {status}: {detail}")
    if 400 <= status < 500:
        raise Rejected(backend, f"{what}: HTTP {status}: {detail}")
    raise BadResponse(backend, f"{what}: HTTP {status} from {_endpoint(response)}")


def _endpoint(response: httpx.Response) -> httpx.URL:
    return response.url.copy_with(query=None)  # the query is named in `what`, once
