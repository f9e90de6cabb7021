"""AWS ECS router: two task sets of a service (EXTERNAL deployment controller) behind an ALB.

Each task set serves its own target group; the ALB's forward weights split the traffic (through
ALBRouter) and each task set's scale (percent of the service's desired count) follows its weight.
Capacity moves first: a task set is scaled up before traffic shifts to it, and down only after
traffic has left, so no task set ever takes more traffic than it has tasks for.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from sentra_adapters.aws import aws_call, aws_client
from sentra_adapters.errors import BadResponse, Misconfigured
from sentra_adapters.options import distinct_cohort_names
from sentra_adapters.traffic.aws_alb import ALBRouter
from sentra_adapters.traffic.base import Outcome, Verification, final_weights
from sentra_adapters.traffic.weights import Weights, check_weights, integer_weights
from sentra_ml.analysis.types.labels import Cohort


class ECSRouter:
    """Weights of two task sets (IDs or ARNs in `task_sets`, per cohort) of `service` in
    `cluster`, split by listener `listener_arn` (or its rule `rule_arn`).

    Clients (boto3 ``ecs`` and ``elbv2``) may be injected; otherwise they are made for `region`
    and `endpoint_url`. ALB failures are named ``aws_alb``, as the ALB is what failed.
    """

    kind: ClassVar[str] = "aws_ecs"
    resolution: ClassVar[float] = ALBRouter.resolution
    _scale: ClassVar[int] = 1000  # the ALB's integer weights, as in ALBRouter

    def __init__(
        self,
        *,
        cluster: str,
        service: str,
        task_sets: Mapping[str, str],
        listener_arn: str,
        rule_arn: str | None = None,
        region: str | None = None,
        endpoint_url: str | None = None,
        timeout: float = 5.0,
        max_attempts: int = 3,
        ecs_client: Any = None,
        elbv2_client: Any = None,
    ) -> None:
        self.cluster = cluster
        self.service = service
        self.task_sets = distinct_cohort_names(self.kind, task_sets, "task_sets")
        self.listener_arn = listener_arn
        self.rule_arn = rule_arn
        options: dict[str, Any] = {
            "region": region,
            "endpoint_url": endpoint_url,
            "timeout": timeout,
            "max_attempts": max_attempts,
        }
        self.ecs = ecs_client or aws_client("ecs", **options)
        self.elbv2 = elbv2_client or aws_client("elbv2", **options)
        self._alb: ALBRouter | None = None

    def set_weights(self, weights: Mapping[str, float]) -> None:
        """Raises capacity where traffic grows, moves the traffic, then lowers capacity."""
        wanted = check_weights(self.kind, weights)
        integer_weights(self.kind, wanted, self._scale)  # Rejected here, before any call
        sets = self._describe()
        alb = self._router(sets)
        for cohort, share in wanted.items():
            if _scale_of(sets[cohort]) < share:
                self._set_scale(cohort, share)
        alb.set_weights(weights)
        for cohort, share in wanted.items():
            if _scale_of(sets[cohort]) > share:
                self._set_scale(cohort, share)

    def get_weights(self) -> Weights:
        """The traffic split the ALB applies now."""
        return self._router(self._describe()).get_weights()

    def verify(self, weights: Mapping[str, float]) -> Verification:
        """CONFIRMED when the ALB splits by `weights` and each task set has capacity for its
        share."""
        wanted = check_weights(self.kind, weights)
        sets = self._describe()
        if self._router(sets).verify(weights) is not Verification.CONFIRMED:
            return Verification.MISMATCH
        enough = all(_scale_of(sets[c]) >= wanted[c] - self.resolution / 2 for c in wanted)
        return Verification.CONFIRMED if enough else Verification.MISMATCH

    def finalize(self, outcome: Outcome) -> None:
        """All traffic and capacity to one task set, which becomes the service's primary."""
        self.set_weights(final_weights(outcome))
        winner = Cohort.CANARY if outcome is Outcome.PROMOTE else Cohort.BASELINE
        # the ARN, not the ID: moto 5.2 silently ignores an ID here (AWS takes either)
        arn = self._describe()[winner].get("taskSetArn") or self.task_sets[winner]
        aws_call(
            self.kind,
            "update_service_primary_task_set",
            self.ecs.update_service_primary_task_set,
            cluster=self.cluster,
            service=self.service,
            primaryTaskSet=arn,
        )

    def _describe(self) -> dict[Cohort, dict[str, Any]]:
        """The two task sets, as ECS describes them."""
        answer = aws_call(
            self.kind,
            "describe_task_sets",
            self.ecs.describe_task_sets,
            cluster=self.cluster,
            service=self.service,
            taskSets=list(self.task_sets.values()),
        )
        found: dict[Cohort, dict[str, Any]] = {}
        for task_set in answer.get("taskSets") or []:
            for cohort, name in self.task_sets.items():
                if name in (task_set.get("id"), task_set.get("taskSetArn")):
                    found[cohort] = task_set
        missing = [str(c) for c in self.task_sets if c not in found]
        if missing:
            raise Misconfigured(
                self.kind, f"service {self.service}: no task set of {missing} ({answer!r:.200})"
            )
        return found

    def _router(self, sets: Mapping[Cohort, Mapping[str, Any]]) -> ALBRouter:
        """The ALB router over the target groups the task sets serve."""
        groups = {}
        for cohort, task_set in sets.items():
            balancers = task_set.get("loadBalancers") or []
            if len(balancers) != 1 or not balancers[0].get("targetGroupArn"):
                raise Misconfigured(
                    self.kind, f"task set {self.task_sets[cohort]}: needs one target group"
                )
            groups[str(cohort)] = str(balancers[0]["targetGroupArn"])
        if self._alb is None or self._alb.target_groups != groups:
            self._alb = ALBRouter(
                listener_arn=self.listener_arn,
                target_groups=groups,
                rule_arn=self.rule_arn,
                client=self.elbv2,
            )
        return self._alb

    def _set_scale(self, cohort: Cohort, percent: float) -> None:
        aws_call(
            self.kind,
            f"update_task_set {self.task_sets[cohort]}",
            self.ecs.update_task_set,
            cluster=self.cluster,
            service=self.service,
            taskSet=self.task_sets[cohort],
            scale={"unit": "PERCENT", "value": percent},
        )


def _scale_of(task_set: Mapping[str, Any]) -> float:
    scale = task_set.get("scale") or {}
    if scale.get("unit") != "PERCENT" or not isinstance(scale.get("value"), int | float):
        raise BadResponse("aws_ecs", f"task set {task_set.get('id')}: scale {scale!r}")
    return float(scale["value"])
