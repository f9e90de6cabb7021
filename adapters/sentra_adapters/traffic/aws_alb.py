"""AWS ALB router: the weights of two target groups in a listener's (or rule's) forward action.

ELBv2 has no revision to write under, so Sentra reads the actions, refuses a forward action that
names a target group it does not own, replaces only that action's target group weights (keeping
every other action, the order and the stickiness), writes, and reads back: a difference means
someone else wrote at the same time (Conflict).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any, ClassVar

from sentra_adapters.aws import aws_call, aws_client
from sentra_adapters.errors import BadResponse, Conflict
from sentra_adapters.options import distinct_cohort_names
from sentra_adapters.traffic.base import HeldWeightsRouter
from sentra_adapters.traffic.weights import (
    Weights,
    check_weights,
    integer_weights,
    percent,
)
from sentra_ml.analysis.types.labels import Cohort


class ALBRouter(HeldWeightsRouter):
    """Weights of two target groups forwarded to by listener `listener_arn`, or by its rule
    `rule_arn` when given; ALB weights are integers 0-999.

    `target_groups` maps each cohort to its target group ARN. A `client` (boto3 ``elbv2``) may be
    injected; otherwise one is made for `region` and `endpoint_url`.
    """

    kind: ClassVar[str] = "aws_alb"
    resolution: ClassVar[float] = 0.1
    # reduced by the gcd, weights summing to 1000 are 1..999 each, or 1 and 0: within 0-999
    _scale: ClassVar[int] = 1000

    def __init__(
        self,
        *,
        listener_arn: str,
        target_groups: Mapping[str, str],
        rule_arn: str | None = None,
        region: str | None = None,
        endpoint_url: str | None = None,
        timeout: float = 5.0,
        max_attempts: int = 3,
        client: Any = None,
    ) -> None:
        self.listener_arn = listener_arn
        self.rule_arn = rule_arn
        self.target_groups = distinct_cohort_names(self.kind, target_groups, "target_groups")
        self.client = client or aws_client(
            "elbv2",
            region=region,
            endpoint_url=endpoint_url,
            timeout=timeout,
            max_attempts=max_attempts,
        )

    def set_weights(self, weights: Mapping[str, float]) -> None:
        """Rewrites the forward action's weights, then reads them back."""
        ints = integer_weights(self.kind, check_weights(self.kind, weights), self._scale)
        actions = self._actions()
        index = self._forward_index(actions)
        if self._weights_of(actions[index]) == ints:
            return  # already applied
        updated = copy.deepcopy(actions)
        forward = updated[index]
        stickiness = (forward.get("ForwardConfig") or {}).get("TargetGroupStickinessConfig")
        forward.pop("TargetGroupArn", None)  # with several target groups only ForwardConfig
        forward["ForwardConfig"] = {
            "TargetGroups": [
                {"TargetGroupArn": self.target_groups[c], "Weight": w} for c, w in ints.items()
            ],
            **({"TargetGroupStickinessConfig": stickiness} if stickiness else {}),
        }
        self._write(updated)
        held = self._weights_of(self._forward(self._actions()))
        if held != ints:
            raise Conflict(self.kind, f"{self._where}: wrote {ints}, read back {held}")

    def get_weights(self) -> Weights:
        """The weights the forward action holds now."""
        return percent(self.kind, self._weights_of(self._forward(self._actions())))

    @property
    def _where(self) -> str:
        return f"rule {self.rule_arn}" if self.rule_arn else f"listener {self.listener_arn}"

    def _actions(self) -> list[dict[str, Any]]:
        if self.rule_arn:
            answer = aws_call(
                self.kind, "describe_rules", self.client.describe_rules, RuleArns=[self.rule_arn]
            )
            found, key = answer.get("Rules") or [], "Actions"
        else:
            answer = aws_call(
                self.kind,
                "describe_listeners",
                self.client.describe_listeners,
                ListenerArns=[self.listener_arn],
            )
            found, key = answer.get("Listeners") or [], "DefaultActions"
        if len(found) != 1 or not isinstance(found[0].get(key), list):
            raise BadResponse(self.kind, f"{self._where}: unexpected answer {answer!r}")
        actions: list[dict[str, Any]] = found[0][key]
        return actions

    def _write(self, actions: list[dict[str, Any]]) -> None:
        if self.rule_arn:
            aws_call(
                self.kind,
                "modify_rule",
                self.client.modify_rule,
                RuleArn=self.rule_arn,
                Actions=actions,
            )
        else:
            aws_call(
                self.kind,
                "modify_listener",
                self.client.modify_listener,
                ListenerArn=self.listener_arn,
                DefaultActions=actions,
            )

    def _forward_index(self, actions: list[dict[str, Any]]) -> int:
        forwards = [i for i, a in enumerate(actions) if a.get("Type") == "forward"]
        if len(forwards) != 1:
            raise Conflict(self.kind, f"{self._where} has {len(forwards)} forward actions, not 1")
        return forwards[0]

    def _forward(self, actions: list[dict[str, Any]]) -> dict[str, Any]:
        return actions[self._forward_index(actions)]

    def _weights_of(self, forward: Mapping[str, Any]) -> dict[Cohort, int]:
        """Integer weights per cohort; Conflict when the action forwards to a foreign group."""
        groups = (forward.get("ForwardConfig") or {}).get("TargetGroups")
        if not groups and forward.get("TargetGroupArn"):
            groups = [{"TargetGroupArn": forward["TargetGroupArn"], "Weight": 1}]
        by_arn = {arn: c for c, arn in self.target_groups.items()}
        weights = dict.fromkeys(self.target_groups, 0)
        for group in groups or []:
            cohort = by_arn.get(group.get("TargetGroupArn"))
            if cohort is None:
                raise Conflict(
                    self.kind, f"{self._where} forwards to a foreign {group.get('TargetGroupArn')}"
                )
            weight = group.get("Weight", 1)  # ALB's default weight
            if not isinstance(weight, int) or not 0 <= weight <= 999:
                raise BadResponse(self.kind, f"{self._where}: bad weight {weight!r}")
            weights[cohort] = weight
        return weights
