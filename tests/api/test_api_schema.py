"""Property-based tests from the OpenAPI schema (schemathesis), with every check it has, on both
backends and every operation, DELETE included: no input makes the service fail with a 5xx, every
answer matches the documented schema, status, content type and headers, and auth is enforced.

The fuzzer calls as an admin. It may revoke any token it finds but its own: a token cannot
revoke itself (409), so the fuzzer keeps its access throughout."""

from __future__ import annotations

import pytest
import schemathesis
from api_helpers import Api  # type: ignore[import-not-found]
from hypothesis import HealthCheck, settings
from schemathesis.checks import CHECKS, CheckContext, CheckFunction, load_all_checks
from schemathesis.config import SchemathesisConfig
from schemathesis.core.transport import Response

from sentra_ml.store.tokens import Role

load_all_checks()
EVERY_CHECK = [check for check in CHECKS.get_all() if callable(check)]


@pytest.fixture(autouse=True)
def _node_id(request: pytest.FixtureRequest) -> None:
    # schemathesis 4's from_fixture reads and renames `node._nodeid`, which pytest 9 dropped
    if not hasattr(request.node, "_nodeid"):
        request.node._nodeid = request.node.nodeid


# Operations whose 422s follow rules a JSON Schema cannot state: the rollout's own metrics and the
# service's clock (telemetry), cross-field rules (exactly one value form per line; metrics or a
# stored policy; min <= max step time; the last step at 100), and stored policies that may not
# exist. For them a schema-valid body may be a 422; everywhere else it must be taken.
SEMANTIC_422 = [
    ("POST", "/v1/rollouts"),
    ("POST", "/v1/rollouts/{rollout_id}/telemetry"),
    ("POST", "/v1/verdicts"),
    ("PUT", "/v1/policies/{name}"),
]
ACCEPTED = ["2xx", "3xx", "401", "403", "404", "409", "429", "5xx"]  # schemathesis' default
# schemathesis' default, and 413: 20,001 lines are also more than the body limit
REFUSED = [
    "400",
    "401",
    "403",
    "404",
    "405",
    "406",
    "409",
    "413",
    "415",
    "422",
    "428",
    "429",
    "5xx",
]


@pytest.fixture
def api_schema(api: Api) -> schemathesis.BaseSchema:
    semantic = {"positive_data_acceptance": {"expected-statuses": [*ACCEPTED, "422"]}}
    config = SchemathesisConfig.from_dict(
        {
            "headers": api.headers(Role.ADMIN),
            "checks": {"negative_data_rejection": {"expected-statuses": REFUSED}},
            "operations": [
                {"include-method": method, "include-path": path, "checks": semantic}
                for method, path in SEMANTIC_422
            ],
        }
    )
    return schemathesis.openapi.from_asgi("/openapi.json", api.app, config=config)


schema = schemathesis.pytest.from_fixture("api_schema")


def keeps_its_token(secret: str) -> CheckFunction:
    """A check: a request with the fuzzer's own token is never refused. Without it, a revoked
    token would turn every later answer into a 401, which passes every check above."""

    def keeps_its_token(ctx: CheckContext, response: Response, case: schemathesis.Case) -> None:
        sent = response.request.headers.get("authorization")
        if response.status_code == 401 and sent == f"Bearer {secret}":
            raise AssertionError(f"the fuzzer's own token was refused: {response.text[:200]}")

    return keeps_its_token


@schema.parametrize()
@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
def test_the_service_keeps_its_schema(case: schemathesis.Case, api: Api) -> None:
    case.call_and_validate(checks=[*EVERY_CHECK, keeps_its_token(api.secrets[Role.ADMIN])])
