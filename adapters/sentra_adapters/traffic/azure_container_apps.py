"""Azure Container Apps router: the ingress traffic weights of two revisions of a Container App.

The app must be in ``Multiple`` active-revisions mode. Its ``ingress.traffic`` list gets one
entry per cohort's revision with an integer weight (the API's unit: resolution 1 %); entries of
other revisions are kept when they take no traffic (e.g. a labelled old revision), and any that
takes traffic is refused as a Conflict. A ``latestRevision`` entry counts as the app's latest
revision. Raw JSON is read and written, so fields the SDK's models do not know survive.

The API offers no ETag or If-Match for this resource, so a write cannot be conditional. Sentra
narrows the window instead: each write is a JSON merge patch of the traffic list alone (other
changes made in between are kept), the long-running operation is awaited and its answer checked,
and a 409 (another operation in progress) is read again and retried a bounded number of times.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from azure.mgmt.appcontainers import ContainerAppsAPIClient

from sentra_adapters.azure import arm_client, await_operation, azure_call
from sentra_adapters.errors import BadResponse, Conflict, Misconfigured, Rejected
from sentra_adapters.options import check_attempts, distinct_cohort_names
from sentra_adapters.traffic.base import HeldWeightsRouter, Verification
from sentra_adapters.traffic.weights import (
    Weights,
    check_weights,
    integer_weights,
    percent,
    same_split,
)
from sentra_ml.analysis.types.labels import Cohort


def raw(pipeline_response: Any, deserialized: Any, headers: Any) -> Any:
    """The answer's JSON as it came (the SDKs' ``cls`` hook), instead of an SDK model."""
    return pipeline_response.http_response.json()


class ContainerAppsRouter(HeldWeightsRouter):
    """Weights of two revisions of Container App `app` in `resource_group`.

    `revisions` maps each cohort to a revision name (``app--suffix``). A `client`
    (``ContainerAppsAPIClient``) may be injected; otherwise one is made for `base_url` (default:
    Azure's public cloud) with `credential` (default: azure-identity's default chain).
    """

    kind: ClassVar[str] = "azure_container_apps"
    resolution: ClassVar[float] = 1.0  # TrafficWeight.weight is an integer
    _scale: ClassVar[int] = 100

    def __init__(
        self,
        *,
        subscription_id: str,
        resource_group: str,
        app: str,
        revisions: Mapping[str, str],
        attempts: int = 3,
        timeout: float = 10.0,
        operation_timeout: float = 300.0,
        poll_interval: float = 5.0,
        base_url: str | None = None,
        credential: Any = None,
        connection_verify: bool | str | None = None,
        client: Any = None,
    ) -> None:
        self.revisions = distinct_cohort_names(self.kind, revisions, "revisions")
        self.resource_group = resource_group
        self.app = app
        self.attempts = check_attempts(self.kind, attempts)
        self.operation_timeout = operation_timeout
        self.poll_interval = poll_interval
        self.client = client or arm_client(
            ContainerAppsAPIClient,
            credential=credential,
            subscription_id=subscription_id,
            base_url=base_url,
            timeout=timeout,
            connection_verify=connection_verify,
        )

    def set_weights(self, weights: Mapping[str, float]) -> None:
        """Merge-patches the traffic list and awaits the operation; a 409 is read again."""
        checked = check_weights(self.kind, weights)
        integer_weights(self.kind, checked, self._scale)  # refuses what is finer than 1 %
        wanted = {c: round(w) for c, w in checked.items()}
        for _ in range(self.attempts):
            app = self._read()
            if self._split(app) == wanted:
                if app["properties"].get("provisioningState") == "Failed":
                    raise Rejected(self.kind, f"{self._what} holds this split but its last "
                                   "operation failed")  # fmt: skip
                return  # already held: no write, no new operation
            patch = {"properties": {"configuration": {"ingress": {
                "traffic": self._traffic(app, wanted)}}}}  # fmt: skip
            try:
                poller = azure_call(
                    self.kind,
                    f"update {self._what}",
                    self.client.container_apps.begin_update,
                    self.resource_group,
                    self.app,
                    patch,
                    polling_interval=self.poll_interval,
                    cls=raw,
                )
            except Conflict:
                continue  # another operation is running: look again before writing
            answer = await_operation(
                self.kind, f"update {self._what}", poller, self.operation_timeout
            )
            if not isinstance(answer, dict) or self._split(answer) != wanted:
                raise BadResponse(self.kind, f"{self._what}: the stored traffic differs")
            return
        raise Conflict(
            self.kind, f"{self._what} was busy or changed on each of {self.attempts} tries"
        )

    def get_weights(self) -> Weights:
        """The weights the app's ingress holds now."""
        return percent(self.kind, self._split(self._read()))

    def verify(self, weights: Mapping[str, float]) -> Verification:
        """CONFIRMED when the ingress holds `weights` and the last operation succeeded."""
        wanted = check_weights(self.kind, weights)
        app = self._read()
        held = percent(self.kind, self._split(app))
        close = same_split(held, wanted, self.resolution)
        settled = app["properties"].get("provisioningState") == "Succeeded"
        return Verification.CONFIRMED if close and settled else Verification.MISMATCH

    @property
    def _what(self) -> str:
        return f"container app {self.resource_group}/{self.app}"

    def _read(self) -> dict[str, Any]:
        app = azure_call(
            self.kind,
            f"get {self._what}",
            self.client.container_apps.get,
            self.resource_group,
            self.app,
            cls=raw,
        )
        if not isinstance(app, dict) or not isinstance(app.get("properties"), dict):
            raise BadResponse(self.kind, f"get {self._what}: no properties in the answer")
        config = app["properties"].get("configuration") or {}
        if not isinstance(config.get("ingress"), dict):
            raise Misconfigured(self.kind, f"{self._what} has no ingress: nothing to route")
        if config.get("activeRevisionsMode") != "Multiple":
            raise Misconfigured(
                self.kind,
                f"{self._what} is in {config.get('activeRevisionsMode')!r} revision mode; "
                "splitting traffic needs 'Multiple'",
            )
        return app

    def _entries(self, app: dict[str, Any]) -> list[tuple[dict[str, Any], str]]:
        """Each traffic entry with the revision it names (``latestRevision`` resolved)."""
        latest = str(app["properties"].get("latestRevisionName") or "")
        traffic = app["properties"]["configuration"]["ingress"].get("traffic") or []
        if not isinstance(traffic, list) or not all(isinstance(t, dict) for t in traffic):
            raise BadResponse(self.kind, f"{self._what}: bad traffic list {traffic!r}")
        return [
            (t, latest if t.get("latestRevision") else str(t.get("revisionName"))) for t in traffic
        ]

    def _split(self, app: dict[str, Any]) -> dict[Cohort, int]:
        """Weight per cohort; Conflict when another revision takes traffic."""
        cohort_of = {r: c for c, r in self.revisions.items()}
        held = dict.fromkeys(self.revisions, 0)
        for entry, revision in self._entries(app):
            weight = entry.get("weight", 0)
            if not isinstance(weight, int) or isinstance(weight, bool) or weight < 0:
                raise BadResponse(self.kind, f"{self._what}: bad weight {weight!r}")
            if revision in cohort_of:
                held[cohort_of[revision]] += weight
            elif weight:
                raise Conflict(
                    self.kind,
                    f"{self._what} sends {weight} % to revision {revision!r}, not only to "
                    f"{sorted(self.revisions.values())}",
                )
        return held

    def _traffic(self, app: dict[str, Any], wanted: Mapping[Cohort, int]) -> list[Any]:
        """The traffic list holding `wanted`: other revisions' entries kept, each owned
        revision's first entry given its weight by name (its label kept), further ones 0; an
        owned entry left at 0 without a label is dropped."""
        cohort_of = {r: c for c, r in self.revisions.items()}
        given: set[Cohort] = set()
        traffic: list[Any] = []
        for entry, revision in self._entries(app):
            cohort = cohort_of.get(revision)
            if cohort is None:
                traffic.append(entry)
                continue
            kept = {k: v for k, v in entry.items() if k == "label"}
            share = 0 if cohort in given else wanted[cohort]
            given.add(cohort)
            if share or kept:
                traffic.append({"revisionName": revision, "weight": share, **kept})
        for cohort, revision in self.revisions.items():
            if cohort not in given and wanted[cohort]:
                traffic.append({"revisionName": revision, "weight": wanted[cohort]})
        return traffic
