"""Error answers in one shape: every 4xx and 5xx is `{"detail": "field.path: problem"}` (a
dependency or the request instead of a field where nothing in the body is to blame); a 422 adds
`errors`, the same problems as a validation-error array (`loc`, `msg`, `type`) for programs. A
body that is not JSON is a 415; a 405 names every method of its path. The input is never echoed
beyond `spec.SHOWN` characters."""

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
_ROOTS = ("body", "query", "path")  # where FastAPI found the field; the field path says enough


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


def as_text(errors: list[dict[str, Any]]) -> str:
    """A validation-error array as one `detail`: 'lines.0.cohort: problem; ...'.

    >>> as_text([{"loc": ["body", "lines", 0, "cohort"], "msg": "bad", "type": "enum"}])
    'lines.0.cohort: bad'
    >>> as_text([{"loc": ["query", "state"], "msg": "bad", "type": "enum"}])
    'state: bad'
    """
    parts = []
    for error in errors:
        loc = [str(p) for p in error["loc"]]
        where = ".".join(loc[1:] if loc[0] in _ROOTS and len(loc) > 1 else loc)
        parts.append(f"{where}: {error['msg']}")
    return "; ".join(parts)


def _invalid_answer(errors: list[dict[str, Any]], headers: Any = None) -> JSONResponse:
    return JSONResponse(
        {"detail": as_text(errors), "errors": errors}, status_code=422, headers=headers
    )


def _msg(error: Any) -> str:
    """Pydantic's message; for a choice among names (an enum, a literal) also what came, so
    that a typo shows: "Input should be 'baseline' or 'canary', got 'canray'"."""
    message = str(error["msg"])
    if error["type"] in ("enum", "literal_error") and isinstance(error.get("input"), str):
        message += f", got '{clip(error['input'])}'"
    return clip(message, MAX_MESSAGE)


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
    # the offending input is not echoed (but for a short name among choices): it may be NaN,
    # which JSON cannot carry, or large
    errors = [
        {
            "loc": [clip(p) if isinstance(p, str) else p for p in e["loc"]],
            "msg": _msg(e),
            "type": e["type"],
        }
        for e in exc.errors()[:MAX_ERRORS]
    ]
    return _invalid_answer(errors)


async def http_error(request: Request, exc: HTTPException) -> Response:
    """A route's 422 message with its validation-error array; a 405 with its path's methods."""
    if exc.status_code == 405:
        headers = dict(exc.headers or {})
        methods = allowed_methods(request)
        if methods:
            headers["Allow"] = ", ".join(methods)
        return JSONResponse({"detail": "Method Not Allowed"}, status_code=405, headers=headers)
    if exc.status_code == 422 and isinstance(exc.detail, str):
        return _invalid_answer(field_errors(exc.detail), exc.headers)
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
