"""A local stand-in for kube-apiserver, for exactly the calls Sentra's Kubernetes routers make.

It follows the documented API for GET, PUT and PATCH of one namespaced object:
- every write makes a new ``metadata.resourceVersion`` (one counter for all objects, as etcd's);
  ``metadata.generation`` grows when ``spec`` changes; ``status`` is a subresource (``/status``):
  a write there changes only the status, a write to the main resource everything else;
- a PUT without a resourceVersion is 422, with a stale one 409 Conflict; a PATCH that sets
  ``metadata.resourceVersion`` makes it a precondition, 409 when stale (kubernetes#15416);
- PATCH by Content-Type: ``application/json-patch+json`` is RFC 6902 (a failed ``test`` op is
  422, as kube-apiserver answers since 1.13), ``application/merge-patch+json`` RFC 7386,
  strategic merge only for built-in kinds (415 for custom resources, as the real server), and
  anything else 415;
- schema checks give 422 Invalid: an HTTPRoute backendRef weight outside 0-1,000,000 (the CRD's
  bounds), negative Deployment replicas; an ingress-nginx canary weight that is not an integer
  in 0-canary-weight-total is refused with 400, as its admission webhook does.
Errors are ``Status`` objects. `before_write` hooks run one per write, first: another client's
update landing between Sentra's read and write.
"""

from __future__ import annotations

import contextlib
import copy
import json
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

_OBJECT = re.compile(
    r"^/(?:api/v1|apis/(?P<group>[^/]+)/[^/]+)/namespaces/[^/]+/(?P<plural>[^/]+)/[^/]+"
    r"(?P<status>/status)?$"
)
_BUILTIN_GROUPS = {None, "apps", "networking.k8s.io"}
_KINDS = {"httproutes": "HTTPRoute", "ingresses": "Ingress", "deployments": "Deployment"}
_CANARY = "nginx.ingress.kubernetes.io/canary"


class StatusError(Exception):
    """An API error, answered as a ``Status`` object."""

    def __init__(self, code: int, reason: str, message: str) -> None:
        super().__init__(message)
        self.code, self.reason, self.message = code, reason, message


@dataclass
class FakeKubeAPI:
    """The objects by URL path, and a log of the requests as ``METHOD path content-type code``."""

    url: str = ""
    objects: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)
    before_write: list[Callable[[FakeKubeAPI], None]] = field(default_factory=list)
    ready_at_once: bool = False  # a Deployment's pods are all ready as soon as it is written
    _version: int = 100
    _lock: threading.RLock = field(default_factory=threading.RLock)

    def put_object(self, path: str, obj: dict[str, Any]) -> dict[str, Any]:
        """Creates or overwrites `path` as a controller or another client would, unconditionally."""
        with self._lock:
            old = self.objects.get(path)
            obj = copy.deepcopy(obj)
            meta = obj.setdefault("metadata", {})
            generation = 1 if old is None else old["metadata"].get("generation", 1)
            if old is not None and old.get("spec") != obj.get("spec"):
                generation += 1
            meta["generation"] = generation
            meta["resourceVersion"] = self._next_version()
            self.objects[path] = obj
            return copy.deepcopy(obj)

    def edit(self, path: str, change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
        """Applies `change` to a copy of the object and stores it (another writer's update)."""
        with self._lock:
            obj = copy.deepcopy(self.objects[path])
            change(obj)
            return self.put_object(path, obj)

    def get(self, path: str) -> dict[str, Any]:
        """A copy of the stored object."""
        with self._lock:
            return copy.deepcopy(self.objects[path])

    def handle(self, method: str, path: str, ctype: str, body: bytes) -> tuple[int, Any]:
        """The status code and JSON answer of one request."""
        with self._lock:
            try:
                match = _OBJECT.match(path)
                if match is None:
                    raise StatusError(404, "NotFound", f"the server could not find {path}")
                if match["status"]:
                    path = path.removesuffix("/status")
                if method == "GET":
                    return 200, copy.deepcopy(self._current(path))
                if method not in ("PUT", "PATCH"):
                    raise StatusError(405, "MethodNotAllowed", f"{method} is not supported")
                if self.before_write:  # one hook per write
                    self.before_write.pop(0)(self)
                current = self._current(path)
                if method == "PUT":
                    new = self._put_body(ctype, body, current)
                else:
                    new = self._patched(match["group"], ctype, body, current)
                _validate(match["plural"], new)
                # the status subresource writes only status; the main resource everything else
                status_of, rest_of = (new, current) if match["status"] else (current, new)
                new = {**copy.deepcopy(rest_of), "status": copy.deepcopy(status_of.get("status"))}
                if new["status"] is None:
                    del new["status"]
                stored = self.put_object(path, new)
                if self.ready_at_once and match["plural"] == "deployments":
                    stored = self.edit(path, _ready)  # the controller's status write
                return 200, stored
            except StatusError as e:
                return e.code, _status(e)

    def _current(self, path: str) -> dict[str, Any]:
        obj = self.objects.get(path)
        if obj is None:
            name = path.rsplit("/", 1)[-1]
            raise StatusError(404, "NotFound", f'"{name}" not found')
        return obj

    def _put_body(self, ctype: str, body: bytes, current: dict[str, Any]) -> dict[str, Any]:
        # kube-apiserver reads a body without Content-Type as its first media type, JSON (the
        # Python client sends none on a custom object PUT)
        if ctype.split(";")[0].strip() not in ("", "application/json"):
            raise StatusError(415, "UnsupportedMediaType", f"PUT with {ctype!r}")
        new = _json(body)
        if not isinstance(new, dict):
            raise StatusError(400, "BadRequest", "the body must be an object")
        version = (new.get("metadata") or {}).get("resourceVersion")
        if not version:
            raise StatusError(
                422, "Invalid", "metadata.resourceVersion: must be specified for an update"
            )
        self._precondition(version, current)
        return new

    def _patched(
        self, group: str | None, ctype: str, body: bytes, current: dict[str, Any]
    ) -> dict[str, Any]:
        kind = ctype.split(";")[0].strip()
        patch = _json(body)
        if kind == "application/json-patch+json":
            if not isinstance(patch, list):
                raise StatusError(400, "BadRequest", "a JSON Patch must be a list of operations")
            new = json_patch(current, patch)
        elif kind == "application/merge-patch+json" or (
            kind == "application/strategic-merge-patch+json" and group in _BUILTIN_GROUPS
        ):
            # strategic merge differs from merge patch only for lists with merge keys, which
            # Sentra does not patch
            new = merge_patch(current, patch)
        else:
            accepted = "application/json-patch+json, application/merge-patch+json"
            raise StatusError(
                415,
                "UnsupportedMediaType",
                f"the body of the request was in an unknown format - accepted media types "
                f"include: {accepted}",
            )
        version = (new.get("metadata") or {}).get("resourceVersion")
        self._precondition(version, current)
        new.setdefault("metadata", {})["resourceVersion"] = current["metadata"]["resourceVersion"]
        return new

    def _precondition(self, version: Any, current: dict[str, Any]) -> None:
        if version != current["metadata"]["resourceVersion"]:
            name = current["metadata"].get("name", "")
            raise StatusError(
                409,
                "Conflict",
                f'Operation cannot be fulfilled on "{name}": the object has been modified; '
                "please apply your changes to the latest version and try again",
            )

    def _next_version(self) -> str:
        self._version += 1
        return str(self._version)


def json_patch(obj: dict[str, Any], ops: list[Any]) -> dict[str, Any]:
    """RFC 6902 add/remove/replace/test on a copy of `obj`; a failed op is 422."""
    doc = copy.deepcopy(obj)
    for op in ops:
        try:
            parent, key = _locate(doc, op["path"])
            name = op["op"]
            if name == "test":
                if _get(parent, key) != op["value"]:
                    raise StatusError(422, "Invalid", f"testing value {op['path']} failed")
            elif name == "remove":
                _get(parent, key)
                del parent[key]
            elif name == "replace":
                _get(parent, key)
                parent[key] = copy.deepcopy(op["value"])
            elif name == "add":
                if isinstance(parent, list):
                    parent.insert(len(parent) if key == "-" else int(key), op["value"])
                else:
                    parent[key] = copy.deepcopy(op["value"])
            else:
                raise StatusError(422, "Invalid", f"unsupported JSON Patch op {name!r}")
        except (KeyError, IndexError, TypeError, ValueError) as e:
            raise StatusError(422, "Invalid", f"JSON Patch {op!r} cannot apply: {e!r}") from e
    return doc


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386: objects merge, null deletes, anything else replaces."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def _locate(doc: Any, pointer: str) -> tuple[Any, Any]:
    parts = [p.replace("~1", "/").replace("~0", "~") for p in pointer.split("/")[1:]]
    parent = doc
    for part in parts[:-1]:
        parent = parent[int(part)] if isinstance(parent, list) else parent[part]
    key: Any = parts[-1]
    if isinstance(parent, list) and key != "-":
        key = int(key)
    return parent, key


def _get(parent: Any, key: Any) -> Any:
    return parent[key]


def _validate(plural: str, obj: dict[str, Any]) -> None:
    kind, name = _KINDS.get(plural, plural), obj.get("metadata", {}).get("name", "")
    problems = []
    if plural == "httproutes":
        for i, rule in enumerate(obj.get("spec", {}).get("rules") or []):
            for j, ref in enumerate(rule.get("backendRefs") or []):
                weight = ref.get("weight", 1)
                where = f"spec.rules[{i}].backendRefs[{j}].weight"
                if not isinstance(weight, int) or isinstance(weight, bool):
                    problems.append(f"{where}: Invalid value: {weight!r}: must be an integer")
                elif not 0 <= weight <= 1_000_000:
                    problems.append(f"{where}: Invalid value: {weight}: must be in 0-1000000")
    if plural == "deployments":
        replicas = obj.get("spec", {}).get("replicas", 1)
        if not isinstance(replicas, int) or replicas < 0:
            problems.append(f"spec.replicas: Invalid value: {replicas!r}: must be >= 0")
    if problems:
        raise StatusError(422, "Invalid", f'{kind} "{name}" is invalid: {"; ".join(problems)}')
    annotations = obj.get("metadata", {}).get("annotations") or {}
    if plural == "ingresses" and annotations.get(_CANARY) == "true":
        weight = annotations.get(f"{_CANARY}-weight", "0")
        total = annotations.get(f"{_CANARY}-weight-total", "100")
        if not (weight.isdigit() and total.isdigit() and int(weight) <= int(total)):
            raise StatusError(
                400,
                "BadRequest",
                'admission webhook "validate.nginx.ingress.kubernetes.io" denied the request: '
                f"invalid canary weight {weight!r} of {total!r}",
            )


def _json(body: bytes) -> Any:
    try:
        return json.loads(body or b"null")
    except ValueError as e:
        raise StatusError(400, "BadRequest", f"the body is not JSON: {e}") from e


def _status(e: StatusError) -> dict[str, Any]:
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": e.message,
        "reason": e.reason,
        "code": e.code,
    }


@contextlib.contextmanager
def running_kube_api() -> Iterator[FakeKubeAPI]:
    """The fake API server on a free port of 127.0.0.1."""
    api = FakeKubeAPI()

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            ctype = self.headers.get("Content-Type") or ""
            path = self.path.split("?", 1)[0]
            code, answer = api.handle(self.command, path, ctype, body)
            api.requests.append(f"{self.command} {path} {ctype} {code}".replace("  ", " "))
            data = json.dumps(answer).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_PUT = do_PATCH = do_POST = do_DELETE = _answer

        def log_message(self, format: str, *args: object) -> None:
            pass  # keep test output quiet

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    api.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield api
    finally:
        server.shutdown()
        server.server_close()


# --- the objects the router tests start from ------------------------------------------------------

NAMESPACE = "shop"
ROUTE_PATH = f"/apis/gateway.networking.k8s.io/v1/namespaces/{NAMESPACE}/httproutes/app"
SERVICES = {"baseline": "app-v1", "canary": "app-v2"}
INGRESSES = {"baseline": "app", "canary": "app-canary"}


def ingress_path(name: str) -> str:
    """The URL path of Ingress `name` in NAMESPACE."""
    return f"/apis/networking.k8s.io/v1/namespaces/{NAMESPACE}/ingresses/{name}"


def httproute(api: FakeKubeAPI, extra_rule: dict[str, Any] | None = None) -> dict[str, Any]:
    """HTTPRoute ``app``: two rules sending everything to the baseline Service (weight 1 to 0),
    plus `extra_rule` if given."""
    refs = [
        {"name": SERVICES["baseline"], "port": 8080, "weight": 1},
        {"group": "", "kind": "Service", "name": SERVICES["canary"], "port": 8080, "weight": 0},
    ]
    rules: list[dict[str, Any]] = [
        {"matches": [{"path": {"type": "PathPrefix", "value": "/api"}}], "backendRefs": refs},
        {"backendRefs": copy.deepcopy(refs), "filters": []},
    ]
    if extra_rule is not None:
        rules.append(extra_rule)
    route = {
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "HTTPRoute",
        "metadata": {"name": "app", "namespace": NAMESPACE, "labels": {"team": "shop"}},
        "spec": {"parentRefs": [{"name": "edge"}], "hostnames": ["shop.test"], "rules": rules},
    }
    return api.put_object(ROUTE_PATH, route)


def accept_route(api: FakeKubeAPI) -> None:
    """Writes the route's status as a Gateway controller does once it applies the spec."""
    generation = api.get(ROUTE_PATH)["metadata"]["generation"]
    condition = {"type": "Accepted", "status": "True", "observedGeneration": generation}
    parent = {"parentRef": {"name": "edge"}, "controllerName": "test", "conditions": [condition]}
    api.edit(ROUTE_PATH, lambda r: r.update(status={"parents": [parent]}))


def canary_ingresses(api: FakeKubeAPI, weight: str = "0") -> None:
    """The main Ingress ``app`` and its ingress-nginx canary ``app-canary`` at `weight`."""
    for cohort, name in INGRESSES.items():
        annotations = {"kubernetes.io/description": "shop"}
        if cohort == "canary":
            annotations |= {_CANARY: "true", f"{_CANARY}-weight": weight}
        backend = {"service": {"name": SERVICES[cohort], "port": {"number": 8080}}}
        path = {"path": "/", "pathType": "Prefix", "backend": backend}
        api.put_object(
            ingress_path(name),
            {
                "apiVersion": "networking.k8s.io/v1",
                "kind": "Ingress",
                "metadata": {"name": name, "namespace": NAMESPACE, "annotations": annotations},
                "spec": {
                    "ingressClassName": "nginx",
                    "rules": [{"host": "shop.test", "http": {"paths": [path]}}],
                },
            },
        )


@dataclass(frozen=True)
class RouterSetup:
    router: Any
    api: FakeKubeAPI


def kube_client(url: str) -> Any:
    """A ``kubernetes.client.ApiClient`` for `url`, as Sentra builds one for a `host`."""
    from sentra_adapters.traffic.k8s.api import api_client

    return api_client("test", url)


@contextlib.contextmanager
def running_gateway(directory: Any = None) -> Iterator[RouterSetup]:
    """The fake API with HTTPRoute ``app``, and a gateway_api router on it (no files)."""
    from sentra_adapters.traffic.registry import routers

    with running_kube_api() as api:
        httproute(api)
        router = routers.create(
            "gateway_api", route="app", namespace=NAMESPACE, services=SERVICES, host=api.url
        )
        yield RouterSetup(router, api)


@contextlib.contextmanager
def running_ingress_nginx(directory: Any = None) -> Iterator[RouterSetup]:
    """The fake API with a main and a canary Ingress, and an ingress_nginx router on them."""
    from sentra_adapters.traffic.registry import routers

    with running_kube_api() as api:
        canary_ingresses(api)
        router = routers.create(
            "ingress_nginx", ingresses=INGRESSES, namespace=NAMESPACE, host=api.url
        )
        yield RouterSetup(router, api)


DEPLOYMENTS = {"baseline": "app-v1", "canary": "app-v2"}


def deployment_path(name: str) -> str:
    """The URL path of Deployment `name` in NAMESPACE."""
    return f"/apis/apps/v1/namespaces/{NAMESPACE}/deployments/{name}"


def deployments(api: FakeKubeAPI, baseline: int = 10, canary: int = 0) -> None:
    """Deployments ``app-v1`` and ``app-v2`` with these replica counts, rolled out."""
    for cohort, name in DEPLOYMENTS.items():
        labels = {"app": "shop", "track": cohort}
        container = {"name": "web", "image": f"shop:{cohort}"}
        template = {"metadata": {"labels": labels}, "spec": {"containers": [container]}}
        api.put_object(
            deployment_path(name),
            {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "metadata": {"name": name, "namespace": NAMESPACE},
                "spec": {
                    "replicas": baseline if cohort == "baseline" else canary,
                    "selector": {"matchLabels": labels},
                    "template": template,
                },
            },
        )
    roll_out(api)


def roll_out(api: FakeKubeAPI) -> None:
    """Writes each Deployment's status as its controller does once every pod is ready."""
    for name in DEPLOYMENTS.values():
        api.edit(deployment_path(name), _ready)


def _ready(d: dict[str, Any]) -> None:
    n, generation = d["spec"]["replicas"], d["metadata"]["generation"]
    d["status"] = {"observedGeneration": generation, "replicas": n, "readyReplicas": n,
                   "updatedReplicas": n}  # fmt: skip


@contextlib.contextmanager
def running_replicas(directory: Any = None) -> Iterator[RouterSetup]:
    """The fake API with two Deployments, and a k8s_replicas router of 100 pods on them."""
    from sentra_adapters.traffic.registry import routers

    with running_kube_api() as api:
        deployments(api, baseline=100)
        api.ready_at_once = True
        router = routers.create(
            "k8s_replicas", deployments=DEPLOYMENTS, replicas=100, namespace=NAMESPACE,
            host=api.url,
        )  # fmt: skip
        yield RouterSetup(router, api)


ROLLOUT_PATH = f"/apis/argoproj.io/v1alpha1/namespaces/{NAMESPACE}/rollouts/app"
STEPS = [{"setWeight": 20}, {"pause": {}}, {"setWeight": 50}, {"analysis": {"templates": []}},
         {"setWeight": 100}]  # fmt: skip


def rollout(api: FakeKubeAPI, step: int = 1, weight: int = 20, paused: bool = True) -> None:
    """Canary Rollout ``app`` at `step` of STEPS, as Argo's controller leaves it: paused at a
    ``pause: {}`` step with a pause condition, or running (e.g. an analysis)."""
    status: dict[str, Any] = {
        "phase": "Paused" if paused else "Progressing",
        "currentStepIndex": step,
        "currentPodHash": "7d9f",
        "stableRS": "5c6b",
        "canary": {"weights": {"canary": {"weight": weight, "podTemplateHash": "7d9f"},
                               "stable": {"weight": 100 - weight, "podTemplateHash": "5c6b"}}},
    }  # fmt: skip
    if paused:
        condition = {"reason": "CanaryPauseStep", "startTime": "2026-11-28T11:00:00Z"}
        status |= {"pauseConditions": [condition], "controllerPause": True}
    api.put_object(
        ROLLOUT_PATH,
        {
            "apiVersion": "argoproj.io/v1alpha1",
            "kind": "Rollout",
            "metadata": {"name": "app", "namespace": NAMESPACE},
            "spec": {"replicas": 5, "strategy": {"canary": {"steps": STEPS}}},
            "status": status,
        },
    )
