"""Google Cloud Run router: the traffic split of a service between two revisions (Admin API v2).

The service's ``traffic`` list gets one REVISION target per cohort with an integer percent (the
API's unit: resolution 1 %). Targets of other revisions are kept as they are when they take no
traffic (e.g. a tagged preview); any that takes traffic is refused as a Conflict, so that Sentra
never moves traffic it does not own. A LATEST target counts as the latest ready revision.

Every write is a patch of ``traffic`` alone (``updateMask``), carrying the ``etag`` just read: a
change made by anyone in between is refused (409 ABORTED) and Sentra reads again, a bounded
number of times, never overwriting blindly. The update is a long-running operation, awaited.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any, ClassVar, TypeVar

import requests
from google.api_core import exceptions as gexc
from google.api_core.future.polling import DEFAULT_POLLING
from google.auth import exceptions as auth_exceptions
from google.cloud import run_v2
from google.protobuf import field_mask_pb2, json_format

from sentra_adapters.errors import (
    AdapterError,
    BadResponse,
    Conflict,
    Misconfigured,
    Rejected,
    Unavailable,
)
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

T = TypeVar("T")
_REVISION = run_v2.TrafficTargetAllocationType.TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION
_LATEST = run_v2.TrafficTargetAllocationType.TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST
_SUCCEEDED = run_v2.Condition.State.CONDITION_SUCCEEDED


class CloudRunRouter(HeldWeightsRouter):
    """Percent of requests per revision of Cloud Run service `service`
    (``projects/P/locations/L/services/S``).

    `revisions` maps each cohort to a revision name (short, e.g. ``app-00002-xyz``). `attempts`
    bounds the writes tried when the service changes under Sentra. A `client`
    (``run_v2.ServicesClient``) may be injected; otherwise one is made over REST for `endpoint`
    (default: Google's) with `credentials` (default: Application Default Credentials).
    """

    kind: ClassVar[str] = "gcp_cloud_run"
    resolution: ClassVar[float] = 1.0  # TrafficTarget.percent is an integer
    _scale: ClassVar[int] = 100

    def __init__(
        self,
        *,
        service: str,
        revisions: Mapping[str, str],
        attempts: int = 3,
        timeout: float = 10.0,
        operation_timeout: float = 120.0,
        poll_interval: float = 1.0,
        endpoint: str | None = None,
        credentials: Any = None,
        client: Any = None,
    ) -> None:
        parts = service.split("/")
        if len(parts) != 6 or parts[0::2] != ["projects", "locations", "services"]:
            raise Misconfigured(
                self.kind, f"service: need projects/P/locations/L/services/S, got {service!r}"
            )
        self.service = service
        self.revisions = distinct_cohort_names(
            self.kind, {c: str(r).rsplit("/", 1)[-1] for c, r in revisions.items()}, "revisions"
        )
        self.attempts = check_attempts(self.kind, attempts)
        self.timeout = timeout
        self.operation_timeout = operation_timeout
        self.poll_interval = poll_interval
        self.client = client or self._client(endpoint, credentials)

    def set_weights(self, weights: Mapping[str, float]) -> None:
        """Patches the traffic under the etag just read; re-reads and retries on a conflict."""
        checked = check_weights(self.kind, weights)
        integer_weights(self.kind, checked, self._scale)  # refuses what is finer than 1 %
        wanted = {c: round(w) for c, w in checked.items()}
        for _ in range(self.attempts):
            current = self._read()
            if self._split(current, current.traffic) == wanted:
                self._served(current)  # a failed update leaves its split in the spec
                return  # already held: no write, no new generation
            request = run_v2.UpdateServiceRequest(
                service=run_v2.Service(
                    name=self.service, traffic=self._traffic(current, wanted), etag=current.etag
                ),
                update_mask=field_mask_pb2.FieldMask(paths=["traffic"]),
            )
            try:
                operation = self._call("update", self.client.update_service, request=request)
            except Conflict:
                continue  # someone else wrote in between: look again before writing
            answer = self._await(operation)
            if self._split(answer, answer.traffic) != wanted:
                raise BadResponse(self.kind, f"{self.service}: the stored traffic differs")
            return
        raise Conflict(
            self.kind, f"{self.service} changed under Sentra on each of {self.attempts} tries"
        )

    def get_weights(self) -> Weights:
        """The split the service's spec holds now."""
        current = self._read()
        return percent(self.kind, self._split(current, current.traffic))

    def verify(self, weights: Mapping[str, float]) -> Verification:
        """CONFIRMED when the spec holds `weights` and Cloud Run serves it: reconciled at the
        current generation, Ready, and ``trafficStatuses`` agreeing."""
        wanted = check_weights(self.kind, weights)
        current = self._read()
        held = percent(self.kind, self._split(current, current.traffic))
        if not same_split(held, wanted, self.resolution):
            return Verification.MISMATCH
        settled = (
            not current.reconciling
            and current.observed_generation == current.generation
            and current.terminal_condition.state == _SUCCEEDED
        )
        serving = self._split(current, current.traffic_statuses, strict=False)
        if not settled or sum(serving.values()) == 0:
            return Verification.MISMATCH
        served = percent(self.kind, serving)
        close = same_split(served, wanted, self.resolution)
        return Verification.CONFIRMED if close else Verification.MISMATCH

    def _served(self, service: run_v2.Service) -> None:
        """Rejected when Cloud Run failed to serve the service's current generation."""
        condition = service.terminal_condition
        failed = condition.state == run_v2.Condition.State.CONDITION_FAILED
        if failed and service.observed_generation == service.generation:
            raise Rejected(
                self.kind,
                f"{self.service} holds this split but Cloud Run failed to serve it: "
                f"{condition.message or 'no message'}",
            )

    def _client(self, endpoint: str | None, credentials: Any) -> Any:
        options = {"api_endpoint": endpoint} if endpoint else None
        try:
            return run_v2.ServicesClient(
                credentials=credentials, transport="rest", client_options=options
            )
        except auth_exceptions.GoogleAuthError as e:
            raise Misconfigured(self.kind, f"no Google credentials: {e}") from e

    def _read(self) -> run_v2.Service:
        service: run_v2.Service = self._call("get", self.client.get_service, name=self.service)
        if not service.etag:
            raise BadResponse(self.kind, f"get {self.service}: the answer has no etag")
        return service

    def _call(self, what: str, method: Callable[..., T], **kw: Any) -> T:
        # no hidden retries: Sentra's tick is the retry loop, and a dead server must fail fast
        try:
            return method(**kw, retry=None, timeout=self.timeout)
        except Exception as e:
            raise cloud_run_error(self.kind, f"{what} {self.service}", e) from e

    def _await(self, operation: Any) -> run_v2.Service:
        # the client's own polling, not sooner than `poll_interval` (its default waits 1-20 s)
        polling = DEFAULT_POLLING.with_delay(
            initial=self.poll_interval, maximum=max(self.poll_interval, 10.0)
        ).with_timeout(self.operation_timeout)
        what = f"update {self.service}: operation {operation.operation.name}"
        try:
            answer: run_v2.Service = operation.result(
                timeout=self.operation_timeout, polling=polling
            )
        except (FutureTimeout, gexc.RetryError) as e:
            raise Unavailable(
                self.kind, f"{what} did not finish in {self.operation_timeout:g} s"
            ) from e
        except gexc.GoogleAPICallError as e:
            if isinstance(e, gexc.Aborted | gexc.ServiceUnavailable | gexc.DeadlineExceeded):
                raise cloud_run_error(self.kind, what, e) from e
            # the operation ran and failed: Cloud Run will not serve this change as it is
            code = getattr(e.grpc_status_code, "name", "UNKNOWN")
            raise Rejected(self.kind, f"{what} failed: {code}: {e.message}") from e
        except Exception as e:
            raise cloud_run_error(self.kind, what, e) from e
        return answer

    def _split(
        self, service: run_v2.Service, targets: Any, strict: bool = True
    ) -> dict[Cohort, int]:
        """Percent per cohort in `targets`; Conflict when another revision takes traffic."""
        latest = service.latest_ready_revision.rsplit("/", 1)[-1]
        cohort_of = {r: c for c, r in self.revisions.items()}
        held = dict.fromkeys(self.revisions, 0)
        for target in targets:
            revision = latest if target.type_ == _LATEST else target.revision.rsplit("/", 1)[-1]
            if target.percent < 0 or target.percent > 100:
                raise BadResponse(self.kind, f"{self.service}: bad percent {target.percent}")
            if revision in cohort_of:
                held[cohort_of[revision]] += target.percent
            elif target.percent and strict:
                raise Conflict(
                    self.kind,
                    f"{self.service} sends {target.percent} % to revision {revision or '?'!r}, "
                    f"not only to {sorted(self.revisions.values())}",
                )
        return held

    def _traffic(self, service: run_v2.Service, wanted: Mapping[Cohort, int]) -> list[Any]:
        """The traffic list holding `wanted`: targets of other revisions kept, each owned
        revision's first target given its percent (its tag kept), any further ones 0; an owned
        target left with 0 % and no tag is dropped (a missing revision would fail the update)."""
        latest = service.latest_ready_revision.rsplit("/", 1)[-1]
        cohort_of = {r: c for c, r in self.revisions.items()}
        given: set[Cohort] = set()
        targets = []
        for target in service.traffic:
            revision = latest if target.type_ == _LATEST else target.revision.rsplit("/", 1)[-1]
            cohort = cohort_of.get(revision)
            if cohort is None:
                targets.append(target)
                continue
            share = 0 if cohort in given else wanted[cohort]
            given.add(cohort)
            if share == 0 and not target.tag:
                continue
            targets.append(
                run_v2.TrafficTarget(
                    type_=_REVISION, revision=revision, percent=share, tag=target.tag
                )
            )
        for cohort in self.revisions:
            if cohort not in given and wanted[cohort]:
                revision = self.revisions[cohort]
                targets.append(
                    run_v2.TrafficTarget(type_=_REVISION, revision=revision, percent=wanted[cohort])
                )
        return targets


def cloud_run_error(backend: str, what: str, error: Exception) -> AdapterError:
    """The typed error of a failed call `what`: no answer, 429 and 5xx are Unavailable; 401,
    403 and 404 Misconfigured (a wrong name or missing IAM role); an etag mismatch Conflict;
    other refusals Rejected; an answer that does not parse BadResponse."""
    if isinstance(error, gexc.GoogleAPICallError):
        cause = f"{what}: {_cause(error)}"
        code = int(error.code or 0)
        if isinstance(error, gexc.Conflict) or (  # 409: ABORTED, Cloud Run's etag mismatch
            isinstance(error, gexc.FailedPrecondition) and "etag" in cause.lower()
        ):
            return Conflict(backend, cause)
        if code in (0, 429) or code >= 500 or isinstance(error, gexc.ServiceUnavailable):
            return Unavailable(backend, cause)
        if code in (401, 403, 404):
            return Misconfigured(backend, cause)
        return Rejected(backend, cause)
    if isinstance(error, auth_exceptions.GoogleAuthError):
        return Misconfigured(backend, f"{what}: credentials refused: {error}")
    if isinstance(error, requests.RequestException):
        return Unavailable(backend, f"{what}: {type(error).__name__}: {error}")
    if isinstance(error, json_format.ParseError | ValueError | TypeError | KeyError):
        return BadResponse(backend, f"{what}: the answer does not parse: {error}")
    return Unavailable(backend, f"{what}: {type(error).__name__}: {error}")


def _cause(error: gexc.GoogleAPICallError) -> str:
    """HTTP status, Google's status name and message of the error body (the client's own
    message repeats the method and URL)."""
    status, message = getattr(error.grpc_status_code, "name", None), str(error.message)
    response = getattr(error, "response", None)
    try:
        body = response.json() if response is not None else None
    except Exception:  # not JSON: keep the client's message
        body = None
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        status = body["error"].get("status") or status
        message = str(body["error"].get("message") or message)
    return f"HTTP {error.code} {status}: {message}" if status else f"HTTP {error.code}: {message}"
