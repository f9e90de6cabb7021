"""Error answers in one shape: every 422 is the validation-error array (`loc`, `msg`, `type`),
every other error `{"detail": "..."}`; a body that is not JSON is a 415; a 405 names every
method of its path. The input is never echoed beyond `spec.SHOWN` characters."""

from __future__ import annotations

import email.message
import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.responses import Response

from sentra_ml.spec import clip

MAX_ERRORS = 20
MAX_MESSAGE = 300
_FIELD = re.compile(r"([A-Za-z_][\w\-]*(?:\.[\w\-]+)*): (.+)", re.DOTALL)
_PARAMETER = re.compile(r"\{[^}/]+\}")


def field_errors(message: str) -> list[dict[str, Any]]:
    """A route's 'field: problem' message as a validation-error array on the body.

    >>> field_errors("lines.3.metric: unknown metric 'x'")
    [{'loc': ['body', 'lines', 3, 'metric'], 'msg': "unknown metric 'x'", 'type': 'value_error'}]
    >>> field_errors("no field named")[0]["loc"]
    ['body']
    """
    found = _FIELD.fullmatch(message)
    if found is None:
        return [{"loc": ["body"], "msg": clip(message, MAX_MESSAGE), "type": "value_error"}]
    path, problem = found.groups()
    loc: list[str | int] = ["body", *(int(p) if p.isdigit() else p for p in path.split("."))]
    return [{"loc": loc, "msg": clip(problem, MAX_MESSAGE), "type": "value_error"}]


def is_json(content_type: str | None) -> bool:
    """Whether FastAPI reads a body of this content type as JSON (`application/json`, `+json`)."""
    if not content_type:
        return False
    parsed = email.message.Message()
    parsed["content-type"] = content_type
    subtype = parsed.get_content_subtype()
    return parsed.get_content_maintype() == "application" and (
        subtype == "json" or subtype.endswith("+json")
    )


async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
    """422 naming each field and problem, or 415 when the body was not sent as JSON."""
    if isinstance(exc.body, bytes) and exc.body:
        # FastAPI hands the raw bytes to validation only when it did not parse them as JSON
        media = request.headers.get("content-type") or "none"
        return JSONResponse(
            {"detail": f"content-type: application/json required, got '{clip(media)}'"},
            status_code=415,
        )
    # the offending input is not echoed: it may be NaN, which JSON cannot carry, or large
    detail = [
        {
            "loc": [clip(p) if isinstance(p, str) else p for p in e["loc"]],
            "msg": clip(e["msg"], MAX_MESSAGE),
            "type": e["type"],
        }
        for e in exc.errors()[:MAX_ERRORS]
    ]
    return JSONResponse({"detail": detail}, status_code=422)


async def http_error(request: Request, exc: HTTPException) -> Response:
    """A route's 422 message in the validation-error shape; a 405 with its path's methods."""
    if exc.status_code == 405:
        headers = dict(exc.headers or {})
        methods = allowed_methods(request)
        if methods:
            headers["Allow"] = ", ".join(methods)
        return JSONResponse({"detail": "Method Not Allowed"}, status_code=405, headers=headers)
    if exc.status_code == 422 and isinstance(exc.detail, str):
        return JSONResponse(
            {"detail": field_errors(exc.detail)}, status_code=422, headers=exc.headers
        )
    return await http_exception_handler(request, exc)


def allowed_methods(request: Request) -> list[str]:
    """The methods the OpenAPI document gives the request's path (Starlette's own `Allow` names
    only the first route's, but GET and POST of one path are two routes); [] if it has none."""
    app: FastAPI = request.app
    paths: list[tuple[re.Pattern[str], set[str]]] | None = getattr(app.state, "openapi_paths", None)
    if paths is None:
        paths = [
            (_template(path), {method.upper() for method in operations})
            for path, operations in app.openapi()["paths"].items()
        ]
        app.state.openapi_paths = paths
    path = request.url.path
    return sorted({m for pattern, methods in paths if pattern.fullmatch(path) for m in methods})


def _template(path: str) -> re.Pattern[str]:
    """The paths that `/v1/rollouts/{rollout_id}` stands for (a parameter is one segment)."""
    return re.compile("[^/]+".join(re.escape(part) for part in _PARAMETER.split(path)))


def install(app: FastAPI) -> None:
    """Register the handlers above on `app`."""
    app.add_exception_handler(RequestValidationError, invalid)  # type: ignore[arg-type]
    app.add_exception_handler(HTTPException, http_error)  # type: ignore[arg-type]
