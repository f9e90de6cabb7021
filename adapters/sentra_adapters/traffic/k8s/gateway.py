"""Gateway API router: the weights of two backendRefs in an HTTPRoute (gateway.networking.k8s.io).

Every rule of the route that sends traffic to the baseline or canary Service gets the same
weights; such a rule must name both Services and nothing else, so that Sentra never moves
traffic it does not own. The route is replaced whole (PUT) under the resourceVersion just read.
Weights are proportions (0-1,000,000, not percent); Sentra writes them reduced, e.g. 9 and 1.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any, ClassVar

from kubernetes import client as k8s

from sentra_adapters.errors import BadResponse, Conflict, Misconfigured
from sentra_adapters.options import check_attempts, distinct_cohort_names
from sentra_adapters.traffic.base import HeldWeightsRouter, Verification
from sentra_adapters.traffic.k8s.api import api_client, call, update
from sentra_adapters.traffic.weights import (
    Weights,
    check_weights,
    integer_weights,
    percent,
    same_split,
)
from sentra_ml.analysis.types.labels import Cohort

GROUP = "gateway.networking.k8s.io"


class GatewayRouter(HeldWeightsRouter):
    """Weights of two Services in HTTPRoute `route` of `namespace`.

    `services` maps each cohort to its Service name. `attempts` bounds the writes tried when the
    route changes under Sentra. A `client` (``kubernetes.client.ApiClient``) may be injected;
    otherwise one is made for `host`, in-cluster credentials or the kubeconfig.
    """

    kind: ClassVar[str] = "gateway_api"
    resolution: ClassVar[float] = 0.01
    _scale: ClassVar[int] = 10_000  # well within the API's 1,000,000

    def __init__(
        self,
        *,
        route: str,
        services: Mapping[str, str],
        namespace: str = "default",
        version: str = "v1",
        attempts: int = 3,
        timeout: float = 5.0,
        host: str | None = None,
        kubeconfig_context: str | None = None,
        client: k8s.ApiClient | None = None,
    ) -> None:
        self.route = route
        self.services = distinct_cohort_names(self.kind, services, "services")
        self.namespace = namespace
        self.version = version
        self.attempts = check_attempts(self.kind, attempts)
        self.timeout = timeout
        self.api = k8s.CustomObjectsApi(client or api_client(self.kind, host, kubeconfig_context))

    def set_weights(self, weights: Mapping[str, float]) -> None:
        """Replaces the route's weights under its resourceVersion; re-reads on 409 Conflict."""
        ints = integer_weights(self.kind, check_weights(self.kind, weights), self._scale)
        wanted = percent(self.kind, ints)

        def plan(route: dict[str, Any], version: str) -> dict[str, Any] | None:
            # rules that disagree are made to agree, not refused: Sentra owns these weights
            if all(same_split(held, wanted, 2e-9) for held in self._per_rule(route)):
                return None
            changed = copy.deepcopy(route)
            for refs in self._rules(changed):
                for ref, cohort in refs:
                    ref["weight"] = ints[cohort]
            changed["metadata"]["resourceVersion"] = version
            return changed

        update(self.kind, self._what, self.attempts, self._read, plan, self._replace)

    def get_weights(self) -> Weights:
        """The weights the route holds now."""
        return self._weights(self._read())

    def verify(self, weights: Mapping[str, float]) -> Verification:
        """CONFIRMED when the route holds `weights` and every parent Gateway reports it Accepted
        at the route's current generation; UNSUPPORTED when no Gateway reports a status."""
        wanted = check_weights(self.kind, weights)
        route = self._read()
        held = self._weights(route)
        if not same_split(held, wanted, self.resolution):
            return Verification.MISMATCH
        parents = (route.get("status") or {}).get("parents") or []
        if not parents:
            return Verification.UNSUPPORTED
        generation = route["metadata"].get("generation")
        accepted = all(_accepted(p, generation) for p in parents)
        return Verification.CONFIRMED if accepted else Verification.MISMATCH

    @property
    def _what(self) -> str:
        return f"HTTPRoute {self.namespace}/{self.route}"

    def _read(self) -> dict[str, Any]:
        route: dict[str, Any] = call(
            self.kind,
            f"get {self._what}",
            self.api.get_namespaced_custom_object,
            GROUP,
            self.version,
            self.namespace,
            "httproutes",
            self.route,
            _request_timeout=self.timeout,
        )
        return route

    def _replace(self, route: dict[str, Any]) -> dict[str, Any]:
        answer: dict[str, Any] = call(
            self.kind,
            f"replace {self._what}",
            self.api.replace_namespaced_custom_object,
            GROUP,
            self.version,
            self.namespace,
            "httproutes",
            self.route,
            route,
            _request_timeout=self.timeout,
        )
        return answer

    def _rules(self, route: dict[str, Any]) -> list[list[tuple[dict[str, Any], Cohort]]]:
        """The backendRefs and their cohorts of each rule that routes to the baseline or canary
        Service; such a rule must hold both, once, and no other backend."""
        rules = (route.get("spec") or {}).get("rules")
        if not isinstance(rules, list):
            raise BadResponse(self.kind, f"{self._what} has no spec.rules list")
        ours = []
        for i, rule in enumerate(rules):
            refs = rule.get("backendRefs") or []
            cohorts = [self._cohort(ref) for ref in refs]
            if all(c is None for c in cohorts):
                continue
            named = sorted(str(c) for c in cohorts if c is not None)
            if None in cohorts or named != ["baseline", "canary"]:
                names = [ref.get("name") for ref in refs]
                raise Conflict(
                    self.kind,
                    f"{self._what} rule {i} routes to {names}; Sentra needs exactly "
                    f"{sorted(self.services.values())}",
                )
            ours.append([(ref, c) for ref, c in zip(refs, cohorts, strict=True) if c is not None])
        if not ours:
            raise Misconfigured(
                self.kind, f"{self._what} routes to neither {sorted(self.services.values())}"
            )
        return ours

    def _cohort(self, ref: Mapping[str, Any]) -> Cohort | None:
        if ref.get("kind", "Service") != "Service" or ref.get("group", "") != "":
            return None
        if ref.get("namespace", self.namespace) != self.namespace:
            return None
        for cohort, service in self.services.items():
            if ref.get("name") == service:
                return cohort
        return None

    def _weights(self, route: dict[str, Any]) -> Weights:
        """Percent per cohort, the same in every rule Sentra owns (else Conflict)."""
        found = self._per_rule(route)
        if any(w != found[0] for w in found[1:]):
            raise Conflict(self.kind, f"{self._what}: its rules split traffic differently")
        return found[0]

    def _per_rule(self, route: dict[str, Any]) -> list[Weights]:
        """Percent per cohort in each rule Sentra owns."""
        found: list[Weights] = []
        for refs in self._rules(route):
            ints: dict[Cohort, float] = {}
            for ref, cohort in refs:
                weight = ref.get("weight", 1)  # the API's default
                if not isinstance(weight, int) or isinstance(weight, bool) or weight < 0:
                    raise BadResponse(self.kind, f"{self._what}: bad weight {weight!r}")
                ints[cohort] = weight
            found.append(percent(self.kind, ints))
        return found


def _accepted(parent: Mapping[str, Any], generation: Any) -> bool:
    """Whether a parent's ``Accepted`` condition is True for the route's `generation`."""
    for condition in parent.get("conditions") or []:
        if condition.get("type") == "Accepted":
            current = condition.get("observedGeneration") == generation
            return bool(current and condition.get("status") == "True")
    return False
