"""ingress-nginx router: the ``canary-weight`` annotation of a canary Ingress.

ingress-nginx sends a share of the main Ingress's requests to a second Ingress for the same host
and path that carries ``nginx.ingress.kubernetes.io/canary: "true"``, by
``canary-weight`` out of ``canary-weight-total`` (default 100). Sentra changes only the canary
Ingress, by a JSON Patch that sets ``metadata.resourceVersion`` to the one just read: the API
server treats it as a precondition and answers 409 Conflict when the Ingress changed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from kubernetes import client as k8s

from sentra_adapters.errors import BadResponse, Misconfigured
from sentra_adapters.options import check_attempts, distinct_cohort_names
from sentra_adapters.traffic.base import HeldWeightsRouter, Verification
from sentra_adapters.traffic.k8s.api import JSON_PATCH, api_client, call, update
from sentra_adapters.traffic.weights import Weights, check_weights, integer_weights
from sentra_ml.analysis.types.labels import Cohort

CANARY = "nginx.ingress.kubernetes.io/canary"
WEIGHT = f"{CANARY}-weight"
TOTAL = f"{CANARY}-weight-total"


class IngressNginxRouter(HeldWeightsRouter):
    """Weights as the canary Ingress's ``canary-weight``, in percent (ingress-nginx's default
    total of 100, so whole percents).

    `ingresses` maps each cohort to its Ingress in `namespace`: the main one (baseline) and the
    canary one, which must carry ``canary: "true"``. A `client` may be injected, as for
    GatewayRouter.
    """

    kind: ClassVar[str] = "ingress_nginx"
    resolution: ClassVar[float] = 1.0
    _scale: ClassVar[int] = 100

    def __init__(
        self,
        *,
        ingresses: Mapping[str, str],
        namespace: str = "default",
        attempts: int = 3,
        timeout: float = 5.0,
        host: str | None = None,
        kubeconfig_context: str | None = None,
        client: k8s.ApiClient | None = None,
    ) -> None:
        self.ingresses = distinct_cohort_names(self.kind, ingresses, "ingresses")
        self.namespace = namespace
        self.attempts = check_attempts(self.kind, attempts)
        self.timeout = timeout
        self.api = k8s.NetworkingV1Api(client or api_client(self.kind, host, kubeconfig_context))

    def set_weights(self, weights: Mapping[str, float]) -> None:
        """Patches ``canary-weight`` (and a ``canary-weight-total`` other than 100 back to 100)
        under the resourceVersion just read; re-reads on 409 Conflict."""
        ints = integer_weights(self.kind, check_weights(self.kind, weights), self._scale)
        canary = 100 * ints[Cohort.CANARY] // sum(ints.values())

        def plan(ingress: dict[str, Any], version: str) -> list[dict[str, Any]] | None:
            if self._canary_percent(ingress) == canary and TOTAL not in _annotations(ingress):
                return None
            ops: list[dict[str, Any]] = [
                {"op": "replace", "path": "/metadata/resourceVersion", "value": version},
                {"op": "add", "path": _pointer(WEIGHT), "value": str(canary)},
            ]
            if TOTAL in _annotations(ingress):
                ops.append({"op": "remove", "path": _pointer(TOTAL)})  # back to the default
            return ops

        update(self.kind, self._what(Cohort.CANARY), self.attempts, self._read, plan, self._patch)

    def get_weights(self) -> Weights:
        """The weights the canary Ingress's annotations hold now."""
        canary = self._canary_percent(self._read())
        return {Cohort.BASELINE: 100.0 - canary, Cohort.CANARY: canary}

    def verify(self, weights: Mapping[str, float]) -> Verification:
        """MISMATCH when the annotation differs; otherwise UNSUPPORTED, as ingress-nginx does not
        report the weights it applies. The main Ingress must exist (else Misconfigured)."""
        wanted = check_weights(self.kind, weights)
        main = self._read(Cohort.BASELINE)
        if _annotations(main).get(CANARY) == "true":
            raise Misconfigured(self.kind, f"{self._what(Cohort.BASELINE)} is itself a canary")
        if abs(self.get_weights()[Cohort.CANARY] - wanted[Cohort.CANARY]) > self.resolution / 2:
            return Verification.MISMATCH
        return Verification.UNSUPPORTED

    def _what(self, cohort: Cohort) -> str:
        return f"Ingress {self.namespace}/{self.ingresses[cohort]}"

    def _read(self, cohort: Cohort = Cohort.CANARY) -> dict[str, Any]:
        ingress: dict[str, Any] = call(
            self.kind,
            f"get {self._what(cohort)}",
            self.api.read_namespaced_ingress,
            self.ingresses[cohort],
            self.namespace,
            _request_timeout=self.timeout,
        )
        return ingress

    def _patch(self, ops: list[dict[str, Any]]) -> dict[str, Any]:
        answer: dict[str, Any] = call(
            self.kind,
            f"patch {self._what(Cohort.CANARY)}",
            self.api.patch_namespaced_ingress,
            self.ingresses[Cohort.CANARY],
            self.namespace,
            ops,
            _content_type=JSON_PATCH,
            _request_timeout=self.timeout,
        )
        return answer

    def _canary_percent(self, ingress: dict[str, Any]) -> float:
        """The canary's percent; Misconfigured when the Ingress is not an ingress-nginx canary."""
        annotations = _annotations(ingress)
        if annotations.get(CANARY) != "true":
            raise Misconfigured(
                self.kind, f'{self._what(Cohort.CANARY)} lacks the annotation {CANARY}: "true"'
            )
        weight, total = annotations.get(WEIGHT, "0"), annotations.get(TOTAL, "100")
        if not (weight.isdigit() and total.isdigit() and 0 < int(total) >= int(weight)):
            what = self._what(Cohort.CANARY)
            raise BadResponse(self.kind, f"{what}: bad canary weight {weight} of {total}")
        return 100.0 * int(weight) / int(total)


def _annotations(obj: Mapping[str, Any]) -> dict[str, str]:
    return dict((obj.get("metadata") or {}).get("annotations") or {})


def _pointer(annotation: str) -> str:
    """The JSON Pointer (RFC 6901) of an annotation: ``/`` in its key is written ``~1``."""
    return "/metadata/annotations/" + annotation.replace("~", "~0").replace("/", "~1")
