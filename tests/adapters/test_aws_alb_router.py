"""ALBRouter against moto in server mode: forward-action weights, rules, foreign groups, errors."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from aws_server import (
    ALBListener,
    MotoSetup,
    alb_listener,
    answering,
    client_at,
    dead_client,
    running_moto,
)
from sentra_adapters.errors import Conflict, Misconfigured, Rejected, Unavailable
from sentra_adapters.traffic.base import Outcome, Verification
from sentra_adapters.traffic.registry import routers

from sentra_ml.analysis.types.labels import Cohort


@pytest.fixture(scope="module")
def moto() -> Iterator[MotoSetup]:
    with running_moto() as setup:
        yield setup


@pytest.fixture(scope="module")
def alb(moto: MotoSetup) -> ALBListener:
    return alb_listener(moto)


@pytest.fixture
def elb(moto: MotoSetup, alb: ALBListener) -> Iterator[Any]:
    client = moto.client("elbv2")
    yield client
    # every test starts from everything on the baseline group
    forward = [{"Type": "forward", "TargetGroupArn": alb.target_groups["baseline"]}]
    client.modify_listener(ListenerArn=alb.listener_arn, DefaultActions=forward)
    client.modify_rule(RuleArn=alb.rule_arn, Actions=forward)


def router(alb: ALBListener, client: Any, **config: Any) -> Any:
    return routers.create(
        "aws_alb",
        listener_arn=alb.listener_arn,
        target_groups=alb.target_groups,
        client=client,
        **config,
    )


def listener_groups(elb: Any, alb: ALBListener) -> dict[str, int]:
    """Weight per cohort of the listener's forward action, straight from the API."""
    actions = elb.describe_listeners(ListenerArns=[alb.listener_arn])["Listeners"][0][
        "DefaultActions"
    ]
    return _weights(actions, alb)


def _weights(actions: list[dict[str, Any]], alb: ALBListener) -> dict[str, int]:
    by_arn = {arn: c for c, arn in alb.target_groups.items()}
    [forward] = actions
    groups = forward.get("ForwardConfig", {}).get("TargetGroups") or [
        {"TargetGroupArn": forward["TargetGroupArn"], "Weight": 1}  # the single-group form
    ]
    return {"baseline": 0, "canary": 0} | {by_arn[g["TargetGroupArn"]]: g["Weight"] for g in groups}


@pytest.mark.parametrize(
    ("canary", "ints"),
    [(0, (1, 0)), (0.1, (999, 1)), (10, (9, 1)), (50, (1, 1)), (87.5, (1, 7)), (100, (0, 1))],
)
def test_weights_are_the_smallest_integers_within_0_to_999(
    elb: Any, alb: ALBListener, canary: float, ints: tuple[int, int]
) -> None:
    r = router(alb, elb)
    weights = {"baseline": 100 - canary, "canary": canary}
    r.set_weights(weights)
    assert listener_groups(elb, alb) == {"baseline": ints[0], "canary": ints[1]}
    assert r.get_weights()[Cohort.CANARY] == pytest.approx(canary, abs=1e-9)
    assert r.verify(weights) is Verification.CONFIRMED


def test_a_rule_is_changed_and_the_listener_left_alone(elb: Any, alb: ALBListener) -> None:
    router(alb, elb, rule_arn=alb.rule_arn).set_weights({"baseline": 80, "canary": 20})
    rule = elb.describe_rules(RuleArns=[alb.rule_arn])["Rules"][0]
    assert _weights(rule["Actions"], alb) == {"baseline": 4, "canary": 1}
    assert router(alb, elb).get_weights() == {"baseline": 100, "canary": 0}


def test_stickiness_is_kept(elb: Any, alb: ALBListener) -> None:
    sticky = {"Enabled": True, "DurationSeconds": 300}
    groups = [{"TargetGroupArn": alb.target_groups["baseline"], "Weight": 1}]
    elb.modify_listener(
        ListenerArn=alb.listener_arn,
        DefaultActions=[
            {
                "Type": "forward",
                "ForwardConfig": {"TargetGroups": groups, "TargetGroupStickinessConfig": sticky},
            }
        ],
    )
    router(alb, elb).set_weights({"baseline": 50, "canary": 50})
    [action] = elb.describe_listeners(ListenerArns=[alb.listener_arn])["Listeners"][0][
        "DefaultActions"
    ]
    assert action["ForwardConfig"]["TargetGroupStickinessConfig"] == sticky


def test_a_foreign_target_group_is_never_overwritten(elb: Any, alb: ALBListener) -> None:
    foreign = [{"Type": "forward", "TargetGroupArn": alb.foreign}]
    elb.modify_listener(ListenerArn=alb.listener_arn, DefaultActions=foreign)
    with pytest.raises(Conflict, match=r"^aws_alb: listener .* forwards to a foreign .*app-other"):
        router(alb, elb).set_weights({"baseline": 90, "canary": 10})
    held = elb.describe_listeners(ListenerArns=[alb.listener_arn])["Listeners"][0]
    assert held["DefaultActions"] == foreign


@pytest.mark.parametrize("outcome", list(Outcome))
def test_finalize_sends_everything_to_one_group(
    elb: Any, alb: ALBListener, outcome: Outcome
) -> None:
    r = router(alb, elb)
    r.set_weights({"baseline": 50, "canary": 50})
    r.finalize(outcome)
    winner = "canary" if outcome is Outcome.PROMOTE else "baseline"
    assert listener_groups(elb, alb)[winner] == 1
    assert sum(listener_groups(elb, alb).values()) == 1


@pytest.mark.parametrize(
    "weights",
    [
        {"baseline": -900, "canary": 1000},
        {"baseline": 99.95, "canary": 0.05},
        {"baseline": 50, "canary": 50, "shadow": 0},
    ],
)
def test_bad_weights_are_rejected_before_any_request(
    moto: MotoSetup, alb: ALBListener, weights: dict[str, float]
) -> None:
    # moto itself accepts a weight of 1000: only Sentra's own check stands in the way
    client = moto.client("elbv2")
    sent: list[str] = []
    client.meta.events.register("before-send", lambda request, **_: sent.append(request.url))
    with pytest.raises(Rejected, match=r"^aws_alb: weights: "):
        router(alb, client).set_weights(weights)
    assert sent == []


def test_a_missing_listener_is_a_configuration_error(moto: MotoSetup, alb: ALBListener) -> None:
    r = routers.create(
        "aws_alb",
        listener_arn=alb.listener_arn + "0",
        target_groups=alb.target_groups,
        client=moto.client("elbv2"),
    )
    with pytest.raises(Misconfigured, match=r"^aws_alb: describe_listeners: ListenerNotFound"):
        r.get_weights()


def test_the_same_group_twice_is_a_configuration_error() -> None:
    with pytest.raises(Misconfigured, match=r"^aws_alb: target_groups: .* must differ"):
        routers.create(
            "aws_alb",
            listener_arn="arn:l",
            target_groups={"baseline": "arn:x", "canary": "arn:x"},
            client=dead_client("elbv2"),
        )


def test_an_unreachable_endpoint_is_unavailable() -> None:
    r = routers.create(
        "aws_alb",
        listener_arn="arn:l",
        target_groups={"baseline": "arn:b", "canary": "arn:c"},
        client=dead_client("elbv2"),
    )
    with pytest.raises(Unavailable, match=r"^aws_alb: describe_listeners: Could not connect"):
        r.set_weights({"baseline": 90, "canary": 10})


@pytest.mark.parametrize(("status", "code"), [(503, "ServiceUnavailable"), (400, "Throttling")])
def test_throttling_and_server_errors_are_unavailable(status: int, code: str) -> None:
    body = (
        f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>slow down"
        f"</Message></Error><RequestId>1</RequestId></ErrorResponse>"
    ).encode()
    with answering(status, {"Content-Type": "text/xml"}, body) as stub:
        r = routers.create(
            "aws_alb",
            listener_arn="arn:l",
            target_groups={"baseline": "arn:b", "canary": "arn:c"},
            client=client_at(stub.endpoint, "elbv2"),
        )
        with pytest.raises(Unavailable, match=rf"^aws_alb: describe_listeners: {code} "):
            r.get_weights()
