"""What all AWS adapters share: clients made from configuration, and the missing-package rule."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from aws_server import REGION, MotoSetup, lambda_alias, require_modules, running_moto
from sentra_adapters.errors import Misconfigured
from sentra_adapters.traffic.registry import routers

from sentra_ml.analysis.types.labels import Cohort


@pytest.fixture(scope="module")
def moto() -> Iterator[MotoSetup]:
    with running_moto() as setup:
        yield setup


@pytest.fixture
def no_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")  # no 1 s wait for an instance role


def test_a_router_makes_its_client_from_the_default_credential_chain(
    moto: MotoSetup, no_credentials: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    alias = lambda_alias(moto, function="chain")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    r = routers.create(
        "aws_lambda",
        function="chain",
        alias="live",
        versions=alias.versions,
        region=REGION,
        endpoint_url=moto.endpoint,
    )
    r.set_weights({"baseline": 75, "canary": 25})
    assert r.get_weights()[Cohort.CANARY] == pytest.approx(25)


def test_missing_credentials_are_a_configuration_error(
    moto: MotoSetup, no_credentials: None
) -> None:
    r = routers.create(
        "aws_alb",
        listener_arn="arn:l",
        target_groups={"baseline": "arn:b", "canary": "arn:c"},
        region=REGION,
        endpoint_url=moto.endpoint,
    )
    with pytest.raises(Misconfigured, match=r"^aws_alb: describe_listeners: Unable to locate cred"):
        r.get_weights()


def test_a_missing_package_skips_but_fails_under_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="no_such_package not installed"):
        require_modules("json", "no_such_package")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI=true and no_such_package not installed"):
        require_modules("no_such_package")
