"""The error answers of every operation, added to the OpenAPI document so that it matches what
the service sends (FastAPI documents only the 200 and its own 422)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import validation_error_definition, validation_error_response_definition

from sentra_ml.api.schemas import ErrorOut

NO_DEPENDENCY = ("/healthz", "/metrics")  # answered without the database or the bus
_ERROR = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}}
_INVALID = {"application/json": {"schema": {"$ref": "#/components/schemas/ValidationErrorOut"}}}
_VALIDATION_ERROR_OUT = {
    "title": "ValidationErrorOut",
    "description": "A 422: `detail` as in every error ('field.path: problem; ...'), and the "
    "same problems as a validation-error array",
    "type": "object",
    "required": ["detail", "errors"],
    "properties": {
        "detail": {"title": "Detail", "type": "string"},
        "errors": {
            "title": "Errors",
            "type": "array",
            "items": {"$ref": "#/components/schemas/ValidationError"},
        },
    },
}
_RETRY_AFTER = {
    "Retry-After": {
        "description": "seconds to wait before trying again",
        "schema": {"type": "string"},
    }
}


def _wanted(path: str, operation: dict[str, Any]) -> dict[str, dict[str, Any]]:
    wanted: dict[str, dict[str, Any]] = {
        "413": {"description": "the body is larger than the limit (`max_body_bytes`)"},
    }
    if path not in NO_DEPENDENCY:
        wanted["503"] = {
            "description": "the database or the bus (Redis) is unreachable; retry later",
            "headers": _RETRY_AFTER,
        }
    if path.startswith("/v1/"):
        wanted["401"] = {"description": "no token, or an unknown or revoked one"}
        wanted["403"] = {"description": "the token's role may not do this"}
    if "application/json" in operation.get("requestBody", {}).get("content", {}):
        wanted["400"] = {"description": "the body could not be read"}
        wanted["415"] = {"description": "the body is not sent as application/json"}
        wanted["422"] = {"description": "Validation Error"}
    return wanted


def add_error_responses(schema: dict[str, Any]) -> dict[str, Any]:
    """Document 400, 401, 403, 413, 415, 422 and 503 where they occur; every 4xx and 5xx without
    a body schema gets ErrorOut, every 422 ValidationErrorOut (ErrorOut plus `errors`)."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components["ErrorOut"] = ErrorOut.model_json_schema()
    components.setdefault("ValidationError", validation_error_definition)
    components.setdefault("HTTPValidationError", validation_error_response_definition)
    components["ValidationErrorOut"] = _VALIDATION_ERROR_OUT
    for path, operations in schema["paths"].items():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            for code, response in _wanted(path, operation).items():
                responses.setdefault(code, response)
            for code, response in responses.items():
                if code == "422":
                    response["content"] = _INVALID
                elif code[0] in "45" and "content" not in response:
                    response["content"] = _ERROR
    return schema


def document_errors(app: FastAPI) -> None:
    """Make `app.openapi()` include the error answers (built once, on first use)."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = add_error_responses(generate())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
