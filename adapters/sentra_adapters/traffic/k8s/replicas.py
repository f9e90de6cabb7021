"""Replica-ratio router: without a mesh or gateway, a Service spreads requests over the ready pods
it selects, so the share of two Deployments behind one Service follows their replica counts.

Sentra keeps `replicas` pods in all and sets each Deployment's ``spec.replicas`` by a JSON Patch
that sets ``metadata.resourceVersion`` to the one just read (a precondition: 409 Conflict when
the Deployment changed, then read again). The rising Deployment is scaled first, so capacity
never drops below `replicas` ready pods on the way. The split is only as exact as the Service's
spreading (kube-proxy picks a pod at random per connection, not per request).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from kubernetes import client as k8s

from sentra_adapters.errors import BadResponse, Misconfigured
from sentra_adapters.options import check_attempts, distinct_cohort_names
from sentra_adapters.traffic.base import HeldWeightsRouter, Verification
from sentra_adapters.traffic.k8s.api import JSON_PATCH, api_client, call, update
from sentra_adapters.traffic.weights import (
    Weights,
    check_weights,
    integer_weights,
    percent,
)
from sentra_ml.analysis.types.labels import Cohort


class ReplicaRatioRouter(HeldWeightsRouter):
    """Weights as the replica counts of two Deployments of `namespace` behind one Service.

    `deployments` maps each cohort to its Deployment; `replicas` is the total pod count, so a
    weight must be a multiple of ``100 / replicas`` percent (1 % needs 100 pods; `resolution`
    is that finest case). A `client` may be injected, as for GatewayRouter.
    """

    kind: ClassVar[str] = "k8s_replicas"
    resolution: ClassVar[float] = 1.0

    def __init__(
        self,
        *,
        deployments: Mapping[str, str],
        replicas: int,
        namespace: str = "default",
        attempts: int = 3,
        timeout: float = 5.0,
        host: str | None = None,
        kubeconfig_context: str | None = None,
        client: k8s.ApiClient | None = None,
    ) -> None:
        self.deployments = distinct_cohort_names(self.kind, deployments, "deployments")
        if isinstance(replicas, bool) or not isinstance(replicas, int) or not 1 <= replicas <= 100:
            raise Misconfigured(self.kind, f"replicas: must be an integer in 1-100, got {replicas}")
        self.replicas = replicas
        self.namespace = namespace
        self.attempts = check_attempts(self.kind, attempts)
        self.timeout = timeout
        self.api = k8s.AppsV1Api(client or api_client(self.kind, host, kubeconfig_context))

    def set_weights(self, weights: Mapping[str, float]) -> None:
        """Scales both Deployments, the rising one first."""
        ints = integer_weights(self.kind, check_weights(self.kind, weights), self.replicas)
        factor = self.replicas // sum(ints.values())  # integer_weights reduced them by their gcd
        counts = {c: n * factor for c, n in ints.items()}
        current = {c: _replicas(self.kind, self._read(c)) for c in counts}
        for cohort in sorted(counts, key=lambda c: counts[c] - current[c], reverse=True):
            self._scale(cohort, counts[cohort])

    def get_weights(self) -> Weights:
        """The weights the replica counts give now (``spec.replicas``)."""
        return percent(self.kind, {c: _replicas(self.kind, self._read(c)) for c in Cohort})

    def verify(self, weights: Mapping[str, float]) -> Verification:
        """CONFIRMED when the counts give `weights` and both Deployments have rolled out: every
        wanted pod ready, at the current generation."""
        wanted = check_weights(self.kind, weights)
        objects = {c: self._read(c) for c in Cohort}
        held = percent(self.kind, {c: _replicas(self.kind, d) for c, d in objects.items()})
        if any(abs(held[c] - wanted[c]) > 1e-9 for c in wanted):
            return Verification.MISMATCH
        ready = all(_rolled_out(d) for d in objects.values())
        return Verification.CONFIRMED if ready else Verification.MISMATCH

    def _what(self, cohort: Cohort) -> str:
        return f"Deployment {self.namespace}/{self.deployments[cohort]}"

    def _read(self, cohort: Cohort) -> dict[str, Any]:
        deployment: dict[str, Any] = call(
            self.kind,
            f"get {self._what(cohort)}",
            self.api.read_namespaced_deployment,
            self.deployments[cohort],
            self.namespace,
            _request_timeout=self.timeout,
        )
        return deployment

    def _scale(self, cohort: Cohort, count: int) -> None:
        def plan(deployment: dict[str, Any], version: str) -> list[dict[str, Any]] | None:
            if _replicas(self.kind, deployment) == count:
                return None
            return [
                {"op": "replace", "path": "/metadata/resourceVersion", "value": version},
                {"op": "add", "path": "/spec/replicas", "value": count},
            ]

        def write(ops: list[dict[str, Any]]) -> dict[str, Any]:
            answer: dict[str, Any] = call(
                self.kind,
                f"patch {self._what(cohort)}",
                self.api.patch_namespaced_deployment,
                self.deployments[cohort],
                self.namespace,
                ops,
                _content_type=JSON_PATCH,
                _request_timeout=self.timeout,
            )
            return answer

        update(
            self.kind, self._what(cohort), self.attempts, lambda: self._read(cohort), plan, write
        )


def _replicas(backend: str, deployment: Mapping[str, Any]) -> int:
    count = (deployment.get("spec") or {}).get("replicas", 1)  # the API's default
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        raise BadResponse(backend, f"bad spec.replicas {count!r}")
    return count


def _rolled_out(deployment: Mapping[str, Any]) -> bool:
    """Whether the Deployment controller has seen the current spec and every pod is ready."""
    status = deployment.get("status") or {}
    generation = (deployment.get("metadata") or {}).get("generation")
    wanted = _replicas("k8s_replicas", deployment)
    return bool(
        status.get("observedGeneration") == generation
        and status.get("readyReplicas", 0) == wanted
        and status.get("replicas", 0) == wanted  # no old or surplus pods still serving
    )
