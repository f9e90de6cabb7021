"""A local stand-in for the Cloud Run Admin API v2, for exactly the calls Sentra's router makes.

It follows the documented REST shapes of ``projects.locations.services`` get and patch, and of
``projects.locations.operations`` get:
- a Service has an ``etag`` that changes on every write; a patch whose body carries another etag
  is refused with 409 ABORTED (AIP-154), never applied; an empty etag is no precondition;
- ``updateMask`` limits the write to the fields named; output-only fields in the body are
  ignored; ``validateOnly`` checks without storing; a missing service is 404 NOT_FOUND;
- traffic targets are checked as the API does: a known allocation type, a revision name for
  TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION, integer percents in 0-100 summing to 100, else 400
  INVALID_ARGUMENT with a ``google.rpc.BadRequest`` detail;
- a patch answers a long-running Operation that is done after `polls` GETs; only then does the
  service stop reconciling. A revision that does not exist fails the operation (the spec keeps
  the new traffic, ``trafficStatuses`` keep serving the old split), as Cloud Run does;
- enums are written as integers when the client asks for ``$alt=json;enum-encoding=int``.
`before_write` hooks run one per patch, first: another client's update landing in between.
"""

from __future__ import annotations

import contextlib
import copy
import json
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from json_servers import json_server

PROJECT, REGION, SERVICE = "shop-prod", "europe-west1", "checkout"
SERVICE_NAME = f"projects/{PROJECT}/locations/{REGION}/services/{SERVICE}"
REVISIONS = {"baseline": "checkout-00001-abc", "canary": "checkout-00002-def"}
FOREIGN = "checkout-00003-xyz"  # a third revision, owned by nobody in the tests
_TYPES = {i: f"TRAFFIC_TARGET_ALLOCATION_TYPE_{t}" for i, t in
          enumerate(("UNSPECIFIED", "LATEST", "REVISION"))}  # fmt: skip
_OUTPUT_ONLY = {"uid", "generation", "createTime", "updateTime", "observedGeneration",
                "terminalCondition", "conditions", "latestReadyRevision", "latestCreatedRevision",
                "trafficStatuses", "uri", "reconciling", "etag", "name"}  # fmt: skip
_STATUS = {400: "INVALID_ARGUMENT", 404: "NOT_FOUND", 409: "ABORTED", 405: "METHOD_NOT_ALLOWED"}


class ApiError(Exception):
    def __init__(self, code: int, message: str, details: list[Any] | None = None) -> None:
        super().__init__(message)
        self.code, self.message, self.details = code, message, details or []

    def body(self) -> dict[str, Any]:
        status = _STATUS.get(self.code, "UNKNOWN")
        return {"error": {"code": self.code, "message": self.message, "status": status,
                          "details": self.details}}  # fmt: skip


@dataclass
class FakeCloudRun:
    """Services by name, their existing revisions, operations, and a log ``METHOD path code``."""

    url: str = ""
    services: dict[str, dict[str, Any]] = field(default_factory=dict)
    revisions: dict[str, set[str]] = field(default_factory=dict)
    operations: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)
    patches: list[dict[str, Any]] = field(default_factory=list)  # query and body of each PATCH
    before_write: list[Callable[[FakeCloudRun], None]] = field(default_factory=list)
    polls: int = 1  # operation GETs before an operation is done
    _counter: int = 0
    _lock: threading.RLock = field(default_factory=threading.RLock)

    def put_service(self, name: str, traffic: list[dict[str, Any]], revisions: set[str]) -> None:
        """Creates or overwrites service `name`, reconciled and serving `traffic`."""
        with self._lock:
            self.revisions[name] = set(revisions)
            latest = f"{name}/revisions/{sorted(revisions)[-1]}"
            service = {"name": name, "uid": str(uuid.uuid4()), "generation": "0",
                       "labels": {"team": "shop"}, "template": {"containers": [{"image": "app"}]},
                       "latestReadyRevision": latest, "latestCreatedRevision": latest}  # fmt: skip
            self.services[name] = service
            self.edit(name, lambda s: s.update(traffic=copy.deepcopy(traffic)))

    def edit(self, name: str, change: Callable[[dict[str, Any]], None]) -> None:
        """Another writer's update: applied, reconciled at once, with a new etag."""
        with self._lock:
            service = self.services[name]
            change(service)
            self._bump(service)
            self._reconcile(service)

    def get(self, name: str = SERVICE_NAME) -> dict[str, Any]:
        with self._lock:
            return copy.deepcopy(self.services[name])

    def split(self, name: str = SERVICE_NAME, key: str = "traffic") -> dict[str, int]:
        """Percent per revision in the spec (or in ``trafficStatuses``), zeros left out."""
        held: dict[str, int] = {}
        for t in self.get(name).get(key, []):
            revision = t.get("revision") or self.get(name)["latestReadyRevision"].split("/")[-1]
            held[revision] = held.get(revision, 0) + t.get("percent", 0)
        return {r: p for r, p in held.items() if p}

    def handle(
        self, method: str, path: str, query: dict[str, list[str]], headers: dict[str, str],
        body: bytes,
    ) -> tuple[int, Any, dict[str, str]]:  # fmt: skip
        ints = "enum-encoding=int" in ",".join(query.get("$alt", []))
        with self._lock:
            try:
                name = path.removeprefix("/v2/")
                if "/operations/" in name and method == "GET":
                    return 200, self._poll(name, ints), {}
                if "/services/" not in name:
                    raise ApiError(404, f"Requested entity was not found: {path}")
                if method == "GET":
                    return 200, _encoded(self._current(name), ints), {}
                if method != "PATCH":
                    raise ApiError(405, f"{method} is not allowed")
                return 200, self._patch(name, query, body, ints), {}
            except ApiError as e:
                return e.code, e.body(), {}

    def _current(self, name: str) -> dict[str, Any]:
        if name not in self.services:
            raise ApiError(404, f"Resource '{name.split('/')[-1]}' of kind 'SERVICE' in region "
                                f"'{REGION}' in project '{PROJECT}' does not exist.")  # fmt: skip
        return self.services[name]

    def _patch(self, name: str, query: dict[str, list[str]], body: bytes, ints: bool) -> Any:
        if self.before_write:
            self.before_write.pop(0)(self)
        current = self._current(name)
        try:
            sent = json.loads(body or b"{}")
        except ValueError as e:
            raise ApiError(400, f"Invalid JSON payload received. {e}") from e
        self.patches.append({"query": query, "body": sent})
        if sent.get("etag") and sent["etag"] != current["etag"]:
            raise ApiError(409, f"Etag mismatch: the service {name} was modified; expected "
                                f"{current['etag']}, got {sent['etag']}")  # fmt: skip
        mask = [p for m in query.get("updateMask", []) for p in m.split(",") if p]
        fields = mask or [k for k in sent if k not in _OUTPUT_ONLY]
        new = copy.deepcopy(current)
        for key in fields:
            if key in sent:
                new[key] = copy.deepcopy(sent[key])
            else:
                new.pop(key, None)
        new["traffic"] = _checked_traffic(new.get("traffic") or [])
        if query.get("validateOnly") == ["true"]:
            return _operation(f"{name}-validate", new, done=True, ints=ints)
        self._bump(new)
        new["reconciling"] = True
        self.services[name] = new
        self._counter += 1
        op_name = f"projects/{PROJECT}/locations/{REGION}/operations/op-{self._counter}"
        self.operations[op_name] = {"service": name, "polls": self.polls, "done": None}
        return _operation(op_name, new, done=False, ints=ints)

    def _poll(self, op_name: str, ints: bool) -> Any:
        op = self.operations.get(op_name)
        if op is None:
            raise ApiError(404, f"Operation {op_name} not found")
        op["polls"] -= 1
        if op["polls"] > 0:
            return _operation(op_name, self.services[op["service"]], done=False, ints=ints)
        if op["done"] is None:
            op["done"] = self._reconcile(self.services[op["service"]])
        service = _encoded(self.services[op["service"]], ints)
        answer = _operation(op_name, self.services[op["service"]], done=True, ints=ints)
        if op["done"]:
            answer["error"] = {"code": 13, "message": op["done"]}  # as Cloud Run reports it
        else:
            answer["response"] = {"@type": _SERVICE_TYPE, **service}
        return answer

    def _bump(self, service: dict[str, Any]) -> None:
        service["generation"] = str(int(service.get("generation", "0")) + 1)
        service["etag"] = f'"{uuid.uuid4().hex[:16]}"'  # Cloud Run's etags are quoted strings

    def _reconcile(self, service: dict[str, Any]) -> str:
        """Serves the spec if every revision exists; returns the failure message, or ''."""
        known = self.revisions[service["name"]]
        service.update(reconciling=False, observedGeneration=service["generation"])
        missing = [t["revision"] for t in service["traffic"] if t.get("revision", "") not in
                   ("", *known)]  # fmt: skip
        if missing:
            message = (f"Revision '{missing[0]}' does not exist or is deleted. Update all traffic "
                       "to route to currently available revisions.")  # fmt: skip
            service["terminalCondition"] = {"type": "Ready", "state": "CONDITION_FAILED",
                                            "message": message}  # fmt: skip
            return message
        service["trafficStatuses"] = copy.deepcopy(service["traffic"])
        service["terminalCondition"] = {"type": "Ready", "state": "CONDITION_SUCCEEDED"}
        return ""


_SERVICE_TYPE = "type.googleapis.com/google.cloud.run.v2.Service"


def _checked_traffic(traffic: Any) -> list[dict[str, Any]]:
    violations = []
    by_name = {v: k for k, v in _TYPES.items()}
    checked = []
    for i, target in enumerate(traffic if isinstance(traffic, list) else [None]):
        where = f"service.traffic[{i}]"
        if not isinstance(target, dict):
            violations.append((where, "must be a TrafficTarget"))
            continue
        kind = target.get("type", 0)
        kind = by_name.get(kind, kind) if isinstance(kind, str) else kind
        percent = target.get("percent", 0)
        if kind not in (1, 2):
            violations.append((f"{where}.type", f"Invalid value: {target.get('type')!r}"))
        elif kind == 2 and not target.get("revision"):
            violations.append((f"{where}.revision", "Required for a REVISION target"))
        if not isinstance(percent, int) or isinstance(percent, bool) or not 0 <= percent <= 100:
            violations.append((f"{where}.percent", f"Invalid value: {percent!r}: 0-100"))
        checked.append({**target, "type": _TYPES.get(kind, kind)})
    total = sum(t.get("percent", 0) for t in checked if isinstance(t.get("percent", 0), int))
    if not violations and total != 100:
        violations.append(("service.traffic", f"Traffic percentages must sum to 100, got {total}"))
    if violations:
        detail = {
            "@type": "type.googleapis.com/google.rpc.BadRequest",
            "fieldViolations": [{"field": f, "description": d} for f, d in violations],
        }
        raise ApiError(400, "; ".join(f"{f}: {d}" for f, d in violations), [detail])
    return checked


def _encoded(service: dict[str, Any], ints: bool) -> dict[str, Any]:
    service = copy.deepcopy(service)
    if ints:
        by_name = {v: k for k, v in _TYPES.items()}
        for key in ("traffic", "trafficStatuses"):
            for t in service.get(key, []):
                t["type"] = by_name[t["type"]]
    return service


def _operation(name: str, service: dict[str, Any], *, done: bool, ints: bool) -> dict[str, Any]:
    metadata = {"@type": _SERVICE_TYPE, **_encoded(service, ints)}
    return {"name": name, "metadata": metadata, "done": done}


@contextlib.contextmanager
def running_cloud_run() -> Iterator[FakeCloudRun]:
    """The fake API with service SERVICE_NAME all on the baseline revision (plus a tagged,
    idle FOREIGN preview), on a free port; every request is logged."""
    api = FakeCloudRun()

    def handle(method: str, path: str, query: Any, headers: Any, body: bytes) -> Any:
        code, answer, extra = api.handle(method, path, query, headers, body)
        api.requests.append(f"{method} {path} {code}")
        return code, answer, extra

    with json_server(handle) as url:
        api.url = url
        reset(api)
        yield api


def reset(api: FakeCloudRun) -> None:
    """SERVICE_NAME serving everything from the baseline revision; nothing logged or queued."""
    rev = 2  # TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION
    traffic = [
        {"type": _TYPES[rev], "revision": REVISIONS["baseline"], "percent": 100},
        {"type": _TYPES[rev], "revision": FOREIGN, "percent": 0, "tag": "preview"},
    ]
    api.put_service(SERVICE_NAME, traffic, {*REVISIONS.values(), FOREIGN})
    api.requests.clear()
    api.patches.clear()
    api.before_write.clear()
    api.polls = 1


@dataclass(frozen=True)
class RouterSetup:
    router: Any
    api: FakeCloudRun


def cloud_run_router(url: str, **config: Any) -> Any:
    """A gcp_cloud_run router on SERVICE_NAME through `url`, anonymous credentials."""
    from google.auth.credentials import AnonymousCredentials
    from sentra_adapters.traffic.registry import routers

    config = {"service": SERVICE_NAME, "revisions": REVISIONS, "endpoint": url,
              "credentials": AnonymousCredentials(), "timeout": 2.0, **config}  # fmt: skip
    return routers.create("gcp_cloud_run", **config)


@contextlib.contextmanager
def running_cloud_run_router(directory: Any = None) -> Iterator[RouterSetup]:
    """The fake API and a router on it (`directory` is unused: no files)."""
    with running_cloud_run() as api:
        yield RouterSetup(cloud_run_router(api.url), api)
