"""LambdaRouter against moto in server mode: alias routing, RevisionId retries, typed errors."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from aws_server import (
    LambdaAlias,
    MotoSetup,
    answering,
    client_at,
    dead_client,
    lambda_alias,
    running_moto,
)
from sentra_adapters.errors import Conflict, Misconfigured, Rejected, Unavailable
from sentra_adapters.traffic.base import Outcome, Verification
from sentra_adapters.traffic.registry import routers

from sentra_ml.analysis.types.labels import Cohort


class AWSLikeLambda:
    """The real boto3 client on moto, plus the RevisionId check moto lacks: each alias write
    makes a new revision, and a write under a stale one fails with PreconditionFailedException,
    as on AWS. `before_write` hooks run one per write, first: another party's update."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.revision = 0
        self.before_write: list[Callable[[AWSLikeLambda], None]] = []
        self.written: list[str] = []  # the RevisionId of each accepted write
        self.refused = 0

    def get_alias(self, **params: Any) -> dict[str, Any]:
        return {**self.client.get_alias(**params), "RevisionId": f"r{self.revision}"}

    def update_alias(self, **params: Any) -> dict[str, Any]:
        if self.before_write:
            self.before_write.pop(0)(self)
        if params.get("RevisionId") != f"r{self.revision}":
            self.refused += 1
            error = {"Code": "PreconditionFailedException", "Message": "revision changed"}
            raise self.client.exceptions.PreconditionFailedException(
                {"Error": error, "ResponseMetadata": {"HTTPStatusCode": 412}}, "UpdateAlias"
            )
        self.written.append(params["RevisionId"])
        self.revision += 1
        return {**self.client.update_alias(**params), "RevisionId": f"r{self.revision}"}


@pytest.fixture(scope="module")
def moto() -> Iterator[MotoSetup]:
    with running_moto() as setup:
        yield setup


@pytest.fixture(scope="module")
def alias(moto: MotoSetup) -> LambdaAlias:
    return lambda_alias(moto)


@pytest.fixture
def aws(moto: MotoSetup, alias: LambdaAlias) -> Iterator[AWSLikeLambda]:
    yield AWSLikeLambda(moto.client("lambda"))
    # every test starts from the alias on the baseline alone
    moto.client("lambda").update_alias(
        FunctionName=alias.function,
        Name=alias.alias,
        FunctionVersion=alias.versions["baseline"],
        RoutingConfig={"AdditionalVersionWeights": {}},
    )


def router(alias: LambdaAlias, client: Any, **config: Any) -> Any:
    return routers.create(
        "aws_lambda",
        function=alias.function,
        alias=alias.alias,
        versions=alias.versions,
        client=client,
        **config,
    )


def routing(aws: AWSLikeLambda, alias: LambdaAlias) -> tuple[str, dict[str, float]]:
    held = aws.client.get_alias(FunctionName=alias.function, Name=alias.alias)
    weights = (held.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {}
    return held["FunctionVersion"], weights


@pytest.mark.parametrize(
    ("canary", "version", "extra"),
    [
        (0, "1", {}),
        (0.01, "1", {"2": 0.0001}),
        (12.5, "1", {"2": 0.125}),
        (99.99, "1", {"2": 0.9999}),
        (100, "2", {}),
    ],
)
def test_the_canary_share_is_the_new_versions_weight(
    aws: AWSLikeLambda, alias: LambdaAlias, canary: float, version: str, extra: dict[str, float]
) -> None:
    r = router(alias, aws)
    weights = {"baseline": 100 - canary, "canary": canary}
    r.set_weights(weights)
    assert routing(aws, alias) == (version, extra)
    assert r.get_weights()[Cohort.CANARY] == pytest.approx(canary, abs=1e-9)
    assert r.verify(weights) is Verification.CONFIRMED
    assert r.verify({"baseline": 50, "canary": 50}) is Verification.MISMATCH


def test_every_write_carries_the_revision_just_read(aws: AWSLikeLambda, alias: LambdaAlias) -> None:
    r = router(alias, aws)
    for canary in (1, 5, 5, 25):
        r.set_weights({"baseline": 100 - canary, "canary": canary})
    assert aws.written == ["r0", "r1", "r2"]  # the repeated 5 % wrote nothing
    assert aws.refused == 0


def test_a_concurrent_change_is_reread_and_retried(aws: AWSLikeLambda, alias: LambdaAlias) -> None:
    def other_party(lam: AWSLikeLambda) -> None:  # e.g. an operator shifting 30 % by hand
        lam.revision += 1
        lam.client.update_alias(
            FunctionName=alias.function,
            Name=alias.alias,
            RoutingConfig={"AdditionalVersionWeights": {"2": 0.3}},
        )

    aws.before_write.append(other_party)
    router(alias, aws).set_weights({"baseline": 90, "canary": 10})
    assert aws.refused == 1 and aws.written == ["r1"]
    assert routing(aws, alias) == ("1", {"2": 0.1})


def test_an_alias_moved_to_a_foreign_version_is_never_overwritten(
    aws: AWSLikeLambda, alias: LambdaAlias
) -> None:
    def deploy_elsewhere(lam: AWSLikeLambda) -> None:
        lam.revision += 1
        lam.client.update_alias(
            FunctionName=alias.function, Name=alias.alias, FunctionVersion=alias.foreign
        )

    aws.before_write.append(deploy_elsewhere)
    with pytest.raises(
        Conflict, match=r"^aws_lambda: alias app:live routes to version\(s\) \['3'\]"
    ):
        router(alias, aws).set_weights({"baseline": 90, "canary": 10})
    assert routing(aws, alias) == (alias.foreign, {})
    with pytest.raises(Conflict):
        router(alias, aws).get_weights()


def test_retries_are_bounded(aws: AWSLikeLambda, alias: LambdaAlias) -> None:
    def bump(lam: AWSLikeLambda) -> None:
        lam.revision += 1

    aws.before_write.extend([bump] * 5)
    with pytest.raises(Conflict, match=r"^aws_lambda: alias app:live changed .* each of 2 tries"):
        router(alias, aws, attempts=2).set_weights({"baseline": 90, "canary": 10})
    assert aws.refused == 2 and aws.written == []
    assert routing(aws, alias) == ("1", {})


@pytest.mark.parametrize("outcome", list(Outcome))
def test_finalize_leaves_one_version(
    aws: AWSLikeLambda, alias: LambdaAlias, outcome: Outcome
) -> None:
    r = router(alias, aws)
    r.set_weights({"baseline": 50, "canary": 50})
    r.finalize(outcome)
    winner = alias.versions["canary" if outcome is Outcome.PROMOTE else "baseline"]
    assert routing(aws, alias) == (winner, {})


@pytest.mark.parametrize(
    "weights",
    [
        {"baseline": -50, "canary": 150},
        {"baseline": 99.995, "canary": 0.005},
        {"baseline": 0.5, "canary": 0.5},
        {"canary": 100},
    ],
)
def test_bad_weights_are_rejected_before_any_request(
    moto: MotoSetup, alias: LambdaAlias, weights: dict[str, float]
) -> None:
    # moto itself accepts a weight of 1.5: only Sentra's own check stands in the way
    client = moto.client("lambda")
    sent: list[str] = []
    client.meta.events.register("before-send", lambda request, **_: sent.append(request.url))
    with pytest.raises(Rejected, match=r"^aws_lambda: weights: "):
        router(alias, client).set_weights(weights)
    assert sent == []


def test_a_missing_alias_or_function_is_a_configuration_error(
    moto: MotoSetup, alias: LambdaAlias
) -> None:
    client = moto.client("lambda")
    missing = routers.create(
        "aws_lambda", function="app", alias="nope", versions=alias.versions, client=client
    )
    with pytest.raises(Misconfigured, match=r"^aws_lambda: get_alias app:nope: ResourceNotFound"):
        missing.set_weights({"baseline": 90, "canary": 10})
    gone = routers.create(
        "aws_lambda", function="gone", alias="live", versions=alias.versions, client=client
    )
    with pytest.raises(Misconfigured, match=r"Function not found"):
        gone.get_weights()


@pytest.mark.parametrize(
    "versions", [{"baseline": "$LATEST", "canary": "2"}, {"baseline": "2", "canary": "2"}]
)
def test_versions_must_be_two_published_versions(versions: dict[str, str]) -> None:
    with pytest.raises(Misconfigured, match=r"^aws_lambda: versions: "):
        routers.create(
            "aws_lambda",
            function="app",
            alias="live",
            versions=versions,
            client=dead_client("lambda"),
        )


def test_an_unreachable_endpoint_is_unavailable() -> None:
    r = routers.create(
        "aws_lambda",
        function="app",
        alias="live",
        versions={"baseline": "1", "canary": "2"},
        client=dead_client("lambda"),
    )
    with pytest.raises(Unavailable, match=r"^aws_lambda: get_alias app:live: Could not connect"):
        r.set_weights({"baseline": 90, "canary": 10})


@pytest.mark.parametrize(
    ("status", "headers", "code"),
    [
        (429, {"x-amzn-ErrorType": "TooManyRequestsException"}, "TooManyRequestsException"),
        (503, {}, "503"),
        (500, {"x-amzn-ErrorType": "ServiceException"}, "ServiceException"),
    ],
)
def test_throttling_and_server_errors_are_unavailable_after_retries(
    status: int, headers: dict[str, str], code: str
) -> None:
    body = json.dumps({"message": "slow down"}).encode()
    with answering(status, {"Content-Type": "application/json", **headers}, body) as stub:
        client = client_at(stub.endpoint, "lambda", attempts=2)
        r = routers.create(
            "aws_lambda",
            function="app",
            alias="live",
            versions={"baseline": "1", "canary": "2"},
            client=client,
        )
        with pytest.raises(Unavailable, match=rf"^aws_lambda: get_alias app:live: {code} "):
            r.get_weights()
    assert len(stub.requests) == 2  # botocore retried once before Sentra gave up
