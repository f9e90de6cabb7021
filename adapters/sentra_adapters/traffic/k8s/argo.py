"""Argo Rollouts: promote or abort a canary Rollout through the fields Argo's own plugin writes.

Argo applies the weights of its ``setWeight`` steps itself, so Sentra does not set weights here:
it reads where the Rollout is and decides when it moves on. The patches are those of
``kubectl argo rollouts promote`` / ``promote --full`` / ``abort`` (Rollouts v0.10+, which keeps
``status`` in a subresource): unpause ``spec.paused``; clear ``status.pauseConditions``, or step
on with ``status.currentStepIndex``; ``status.promoteFull: true``; ``status.abort: true``. Unlike
the plugin, every patch carries the resourceVersion just read, a precondition, so a promotion
computed from a stale step index (which would skip a step) is refused with 409 and recomputed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from kubernetes import client as k8s

from sentra_adapters.errors import BadResponse, Conflict, Misconfigured
from sentra_adapters.options import check_attempts
from sentra_adapters.traffic.base import Outcome
from sentra_adapters.traffic.k8s.api import api_client, call, resource_version

GROUP, VERSION, PLURAL = "argoproj.io", "v1alpha1", "rollouts"
MERGE_PATCH = "application/merge-patch+json"
_Patches = Callable[[dict[str, Any]], tuple[dict[str, Any], dict[str, Any]]]  # spec, status


@dataclass(frozen=True)
class RolloutState:
    """Where a canary Rollout is: its phase, step, pause and abort, and the canary weight Argo
    reports (None without traffic routing, where the weight is the replica ratio)."""

    phase: str
    step: int
    steps: int
    paused: bool
    aborted: bool
    canary_weight: float | None


class ArgoRollout:
    """Drives the canary Rollout `rollout` of `namespace`. A `client` may be injected, as for
    GatewayRouter; `attempts` bounds the re-reads when the Rollout changes under Sentra."""

    kind: ClassVar[str] = "argo_rollouts"

    def __init__(
        self,
        *,
        rollout: str,
        namespace: str = "default",
        attempts: int = 3,
        timeout: float = 5.0,
        host: str | None = None,
        kubeconfig_context: str | None = None,
        client: k8s.ApiClient | None = None,
    ) -> None:
        self.rollout = rollout
        self.namespace = namespace
        self.attempts = check_attempts(self.kind, attempts)
        self.timeout = timeout
        self.api = k8s.CustomObjectsApi(client or api_client(self.kind, host, kubeconfig_context))

    def state(self) -> RolloutState:
        """The Rollout's state now."""
        return _state(self.kind, self._read())

    def promote(self, at_step: int | None = None) -> None:
        """Moves on from the current step, as ``kubectl argo rollouts promote``; with `at_step`,
        only while the Rollout is still at that step (the one Sentra judged)."""

        def patches(ro: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
            if at_step is not None and _state(self.kind, ro).step != at_step:
                return {}, {}  # it moved on already: promoting again would skip a step
            return self._promote_patches(ro)

        self._apply(patches)

    def promote_full(self) -> None:
        """Skips every remaining step, analysis and pause (``promote --full``)."""
        self._apply(lambda ro: ({}, {"promoteFull": True} if _updating(ro) else {}))

    def abort(self) -> None:
        """Sends all traffic back to the stable ReplicaSet (``abort``)."""
        self._apply(lambda ro: ({}, {} if ro.get("status", {}).get("abort") else {"abort": True}))

    def finalize(self, outcome: Outcome) -> None:
        """PROMOTE: full promotion; RESTORE: abort."""
        if outcome is Outcome.PROMOTE:
            self.promote_full()
        else:
            self.abort()

    @property
    def _what(self) -> str:
        return f"Rollout {self.namespace}/{self.rollout}"

    def _promote_patches(self, ro: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        """The plugin's patches for a plain promote (its inconclusive-analysis case aside)."""
        state = _state(self.kind, ro)
        spec_patch = {"paused": False} if ro["spec"].get("paused") else {}
        if (ro.get("status") or {}).get("pauseConditions"):
            return spec_patch, {"pauseConditions": None}
        # no pause condition to clear: step on (e.g. in the middle of an analysis)
        step = min(state.step + 1, state.steps)
        return spec_patch, {"pauseConditions": None, "currentStepIndex": step}

    def _apply(self, patches: _Patches) -> None:
        """Status then spec patch (as the plugin), each under the resourceVersion just read;
        on 409 Conflict everything is recomputed from a fresh read."""
        for _ in range(self.attempts):
            ro = self._read()
            spec_patch, status_patch = patches(ro)
            try:
                if status_patch:
                    ro = self._patch(ro, {"status": status_patch}, status=True)
                if spec_patch:
                    self._patch(ro, {"spec": spec_patch}, status=False)
            except Conflict:
                continue  # the Rollout moved: decide again from what it is now
            return
        raise Conflict(
            self.kind, f"{self._what} changed under Sentra on each of {self.attempts} tries"
        )

    def _read(self) -> dict[str, Any]:
        ro: dict[str, Any] = call(
            self.kind,
            f"get {self._what}",
            self.api.get_namespaced_custom_object,
            GROUP,
            VERSION,
            self.namespace,
            PLURAL,
            self.rollout,
            _request_timeout=self.timeout,
        )
        return ro

    def _patch(self, ro: dict[str, Any], body: dict[str, Any], *, status: bool) -> dict[str, Any]:
        version = resource_version(self.kind, self._what, ro)
        request = (
            self.api.patch_namespaced_custom_object_status
            if status
            else self.api.patch_namespaced_custom_object
        )
        answer: dict[str, Any] = call(
            self.kind,
            f"patch {self._what}{'/status' if status else ''}",
            request,
            GROUP,
            VERSION,
            self.namespace,
            PLURAL,
            self.rollout,
            {"metadata": {"resourceVersion": version}, **body},
            _content_type=MERGE_PATCH,
            _request_timeout=self.timeout,
        )
        return answer


def _updating(ro: dict[str, Any]) -> bool:
    status = ro.get("status") or {}
    return bool(status.get("currentPodHash") != status.get("stableRS"))


def _state(backend: str, ro: dict[str, Any]) -> RolloutState:
    try:
        spec, status = ro.get("spec") or {}, ro.get("status") or {}
        canary = (spec.get("strategy") or {}).get("canary")
        if canary is None:
            raise Misconfigured(backend, f"Rollout {ro['metadata']['name']} is not a canary")
        steps = len(canary.get("steps") or [])
        weights = (status.get("canary") or {}).get("weights")
        return RolloutState(
            phase=str(status.get("phase", "")),
            step=int(status.get("currentStepIndex", 0)),
            steps=steps,
            paused=bool(spec.get("paused") or status.get("pauseConditions")),
            aborted=bool(status.get("abort")),
            canary_weight=None if not weights else float(weights["canary"]["weight"]),
        )
    except (KeyError, TypeError, ValueError, AttributeError) as e:
        raise BadResponse(backend, f"a Rollout Sentra cannot read: {e!r}") from e
