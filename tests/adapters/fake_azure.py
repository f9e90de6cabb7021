"""A local stand-in for Azure Resource Manager over TLS, for exactly the calls Sentra's Azure
routers make: Container Apps (``Microsoft.App/containerApps``) and App Service / Functions
slots (``Microsoft.Web/sites/config/web``, ``/slots/{slot}``, ``/slotsswap``).

It follows the documented REST shapes:
- HTTPS only, with a self-signed certificate made here (the SDKs refuse a bearer token over
  plain HTTP); every request needs ``Authorization: Bearer <token>`` (else 401
  AuthenticationFailed / InvalidAuthenticationToken) and an ``api-version`` (else 400
  MissingApiVersionParameter); paths match case-insensitively, as ARM's do;
- a Container App PATCH is a JSON merge patch (RFC 7386: lists replaced whole), answered 202
  with a ``Location`` to poll (``containerappOperationResults``) and ``Retry-After``; the poll
  answers 202 until done, then 200 with the app; while an operation runs the app is
  ``InProgress`` and another PATCH is 409 ContainerAppOperationInProgress. Traffic must name
  existing revisions (or ``latestRevision``), integer weights summing to 100, in ``Multiple``
  revision mode, else 400. The API has no ETag or If-Match for this resource;
- the function app has slots ``staging`` and ``beta`` (the latter only as a routing target);
  App Service's config/web PATCH is synchronous; ``experiments.rampUpRules`` must route to a
  slot host name of the site with ``reroutePercentage`` in 0-100, else 400 in App Service's own
  error format (``{"Code", "Message", "Details"}``, not ARM's ``{"error": ...}``). A slot swap is
  a POST answered 202 with a ``Location`` (``operationresults``); the slots' content (here the
  image) is exchanged when the operation completes, routing rules stay with production.
`before_write` hooks run one per write (PATCH or POST), first.
"""

from __future__ import annotations

import contextlib
import copy
import json
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fake_kube_api import merge_patch
from json_servers import json_server, self_signed

SUB, RG, LOCATION = "00000000-0000-0000-0000-000000000001", "shop-rg", "westeurope"
TOKEN = "good-token"
APP = "checkout"
APP_PATH = f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.App/containerApps/{APP}"
APP_REVISIONS = {"baseline": "checkout--v1", "canary": "checkout--v2"}
APP_FOREIGN = "checkout--v0"
SITE, SLOT = "checkout-fn", "staging"
Answer = tuple[int, Any, dict[str, str]]  # status, JSON body, headers
_ARM = r"^/subscriptions/[^/]+/resourcegroups/[^/]+/providers/"
_ROUTES = {
    "app": re.compile(_ARM + r"microsoft\.app/containerapps/([^/]+)$", re.I),
    "app_op": re.compile(r"^/subscriptions/[^/]+/providers/microsoft\.app/locations/[^/]+/"
                         r"containerappoperationresults/([^/]+)$", re.I),
    "config": re.compile(_ARM + r"microsoft\.web/sites/([^/]+)/config/web$", re.I),
    "slot": re.compile(_ARM + r"microsoft\.web/sites/([^/]+)/slots/([^/]+)$", re.I),
    "swap": re.compile(_ARM + r"microsoft\.web/sites/([^/]+)/slotsswap$", re.I),
    "web_op": re.compile(_ARM + r"microsoft\.web/sites/[^/]+/operationresults/([^/]+)$", re.I),
}  # fmt: skip


class ArmError(Exception):
    def __init__(self, status: int, code: str, message: str, app_service: bool = False) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.app_service = status, code, message, app_service

    def body(self) -> dict[str, Any]:
        if self.app_service:  # App Service's own error format
            entity = {"Code": self.code, "Message": self.message}
            return {"Code": self.code, "Message": self.message, "Target": None,
                    "Details": [{"Message": self.message}, {"Code": self.code},
                                {"ErrorEntity": entity}], "Innererror": None}  # fmt: skip
        return {"error": {"code": self.code, "message": self.message}}


@dataclass
class FakeARM:
    url: str = ""
    apps: dict[str, dict[str, Any]] = field(default_factory=dict)  # by app name
    app_revisions: set[str] = field(default_factory=set)
    configs: dict[str, dict[str, Any]] = field(default_factory=dict)  # config/web by site
    images: dict[str, str] = field(default_factory=dict)  # image per slot ("production"...)
    operations: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)
    bodies: list[Any] = field(default_factory=list)  # JSON body of each write
    before_write: list[Callable[[FakeARM], None]] = field(default_factory=list)
    polls: int = 1  # operation polls answered 202 before the operation is done
    _counter: int = 0

    def handle(
        self, method: str, path: str, query: dict[str, list[str]], headers: dict[str, str],
        body: bytes,
    ) -> Answer:  # fmt: skip
        try:
            auth = headers.get("authorization", "")
            if not auth.startswith("Bearer "):
                raise ArmError(
                    401,
                    "AuthenticationFailed",
                    "Authentication failed. The 'Authorization' header is missing.",
                )
            if auth != f"Bearer {TOKEN}":
                raise ArmError(401, "InvalidAuthenticationToken",
                               "The access token is invalid.")  # fmt: skip
            version = query.get("api-version", [""])[0]
            if not re.fullmatch(r"\d{4}-\d{2}-\d{2}(-preview)?", version):
                raise ArmError(
                    400,
                    "MissingApiVersionParameter",
                    "The api-version query parameter (?api-version=) is required for all requests.",
                )
            for route, pattern in _ROUTES.items():
                match = pattern.match(path)
                if match:
                    return self._route(route, method, match.groups(), version, body)
            raise ArmError(404, "ResourceNotFound", f"The resource '{path}' was not found.")
        except ArmError as e:
            return e.status, e.body(), {}

    def _route(self, route: str, method: str, names: tuple[str, ...], version: str,
               body: bytes) -> Answer:  # fmt: skip
        web = route in ("config", "slot", "swap", "web_op")
        if route in ("app_op", "web_op"):
            return self._poll(names[-1], version)
        if route == "slot":
            if names[1] != SLOT or names[0] not in self.configs:
                raise ArmError(404, "NotFound", f"Slot '{names[1]}' not found.", True)
            return 200, self.slot(names[0]), {}
        if method in ("PATCH", "POST", "PUT"):
            sent = _json(body, web)
            self.bodies.append(sent)
            if self.before_write:
                self.before_write.pop(0)(self)
        else:
            sent = None
        if route == "app":
            app = self.apps.get(names[0])
            if app is None:
                raise ArmError(404, "ResourceNotFound", f"The Resource 'Microsoft.App/"
                               f"containerApps/{names[0]}' under resource group '{RG}' was not "
                               "found.")  # fmt: skip
            if method == "GET":
                return 200, app, {}
            if method != "PATCH":
                raise ArmError(405, "MethodNotAllowed", f"{method} is not supported here")
            if app["properties"]["provisioningState"] == "InProgress":
                raise ArmError(409, "ContainerAppOperationInProgress", f"Cannot modify a "
                               f"container app '{names[0]}' because there is a pending "
                               "operation.")  # fmt: skip
            new = merge_patch(app, sent)
            _check_app(new, self.app_revisions)
            new["properties"]["provisioningState"] = "InProgress"
            self.apps[names[0]] = new
            return self._start("app", names[0], version, _app_done)
        if names[0] not in self.configs:
            raise ArmError(404, "NotFound", f"The Resource 'Microsoft.Web/sites/{names[0]}' "
                           f"under resource group '{RG}' was not found.", True)  # fmt: skip
        if route == "config":
            if method == "GET":
                return 200, self.config(names[0]), {}
            if method != "PATCH":
                raise ArmError(405, "MethodNotAllowed", f"{method} is not supported here", True)
            props = merge_patch(self.configs[names[0]], sent.get("properties") or {})
            _check_rules(props, {f"{names[0]}-{s}.azurewebsites.net" for s in (SLOT, "beta")})
            self.configs[names[0]] = props
            return 200, self.config(names[0]), {}
        if method != "POST":
            raise ArmError(405, "MethodNotAllowed", f"{method} is not supported here", True)
        if sent.get("targetSlot") != SLOT:
            raise ArmError(404, "NotFound", f"Slot '{sent.get('targetSlot')}' not found.", True)
        if any(not op["done"] for op in self.operations.values()):
            raise ArmError(409, "Conflict", "Cannot modify this site because another operation "
                           "is in progress.", True)  # fmt: skip
        return self._start("web", names[0], version, _swap_done)

    def _start(
        self, kind: str, name: str, version: str, finish: Callable[[FakeARM, str], None]
    ) -> Answer:
        self._counter += 1
        op_id = f"op-{self._counter}"
        self.operations[op_id] = {"polls": self.polls, "finish": finish, "name": name,
                                  "done": False, "kind": kind}  # fmt: skip
        return 202, None, self._location(op_id, version)

    def _location(self, op_id: str, version: str) -> dict[str, str]:
        if self.operations[op_id]["kind"] == "app":
            where = f"/subscriptions/{SUB}/providers/Microsoft.App/locations/{LOCATION}/" \
                    f"containerappOperationResults/{op_id}"  # fmt: skip
        else:
            where = f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.Web/sites/" \
                    f"{self.operations[op_id]['name']}/operationresults/{op_id}"  # fmt: skip
        return {"Location": f"{self.url}{where}?api-version={version}", "Retry-After": "0"}

    def _poll(self, op_id: str, version: str) -> Answer:
        op = self.operations.get(op_id)
        if op is None:
            raise ArmError(404, "OperationNotFound", f"Operation {op_id} not found.")
        if not op["done"]:
            op["polls"] -= 1
            if op["polls"] >= 0:
                return 202, None, self._location(op_id, version)
            self.finish(op_id)
        return 200, self.apps.get(op["name"]) if op["kind"] == "app" else None, {}

    def finish(self, op_id: str) -> None:
        """Completes an operation at once, as if its last poll had happened."""
        op = self.operations[op_id]
        if not op["done"]:
            op["done"] = True
            op["finish"](self, op["name"])

    def config(self, site: str) -> dict[str, Any]:
        props = {**copy.deepcopy(self.configs[site]), "linuxFxVersion": self.images["production"]}
        return {"id": f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.Web/sites/"
                      f"{site}/config/web", "name": site, "type": "Microsoft.Web/sites/config",
                "location": "West Europe", "properties": props}  # fmt: skip

    def slot(self, site: str) -> dict[str, Any]:
        return {"id": f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.Web/sites/"
                      f"{site}/slots/{SLOT}", "name": f"{site}/{SLOT}", "kind": "functionapp",
                "type": "Microsoft.Web/sites/slots", "location": "West Europe",
                "properties": {"state": "Running", "defaultHostName":
                               f"{site}-{SLOT}.azurewebsites.net",
                               "siteConfig": {"linuxFxVersion": self.images[SLOT]}}}  # fmt: skip


def _app_done(arm: FakeARM, name: str) -> None:
    arm.apps[name]["properties"]["provisioningState"] = "Succeeded"


def _swap_done(arm: FakeARM, name: str) -> None:
    arm.images["production"], arm.images[SLOT] = arm.images[SLOT], arm.images["production"]


def _json(body: bytes, app_service: bool) -> Any:
    try:
        sent = json.loads(body or b"{}")
    except ValueError as e:
        raise ArmError(400, "InvalidRequestContent", f"The request content is invalid: {e}",
                       app_service) from e  # fmt: skip
    if not isinstance(sent, dict):
        raise ArmError(400, "InvalidRequestContent", "The request content must be an object",
                       app_service)  # fmt: skip
    return sent


def _check_app(app: dict[str, Any], revisions: set[str]) -> None:
    config = app["properties"]["configuration"]
    traffic = (config.get("ingress") or {}).get("traffic") or []
    problems = []
    for i, t in enumerate(traffic):
        weight, name = t.get("weight", 0), t.get("revisionName")
        if not isinstance(weight, int) or isinstance(weight, bool) or not 0 <= weight <= 100:
            problems.append(f"traffic[{i}].weight {weight!r} must be an integer in 0-100")
        if bool(name) == bool(t.get("latestRevision")):
            problems.append(f"traffic[{i}] needs either revisionName or latestRevision")
        elif name and name not in revisions:
            problems.append(f"revision '{name}' does not exist")
    if not problems and traffic and sum(t.get("weight", 0) for t in traffic) != 100:
        problems.append("the traffic weights must sum to 100")
    busy = [t for t in traffic if t.get("weight")]
    if not problems and config.get("activeRevisionsMode") != "Multiple" and len(busy) > 1:
        problems.append("traffic can be split only in Multiple revision mode")
    if problems:
        raise ArmError(400, "ContainerAppInvalidIngressTraffic", "; ".join(problems))


def _check_rules(props: dict[str, Any], hosts: set[str]) -> None:
    for rule in (props.get("experiments") or {}).get("rampUpRules") or []:
        share = rule.get("reroutePercentage")
        if not isinstance(share, int | float) or isinstance(share, bool) or not 0 <= share <= 100:
            raise ArmError(400, "BadRequest", f"reroutePercentage {share!r} must be in 0-100",
                           True)  # fmt: skip
        if rule.get("actionHostName") not in hosts or not rule.get("name"):
            raise ArmError(
                400,
                "BadRequest",
                f"Invalid routing rule {rule.get('name')!r}: "
                f"'{rule.get('actionHostName')}' is not a slot of this site",
                True,
            )


class FakeCredential:
    """A TokenCredential handing out `token`; records the scopes asked for."""

    def __init__(self, token: str = TOKEN) -> None:
        self.token, self.scopes = token, []  # type: list[str]

    def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        from azure.core.credentials import AccessToken

        self.scopes.extend(scopes)
        return AccessToken(self.token, int(time.time()) + 3600)


def reset(arm: FakeARM) -> None:
    """A Container App all on the baseline revision (plus an idle labelled foreign one), and
    a function app whose staging slot takes nothing; nothing logged or queued."""
    traffic = [{"revisionName": APP_REVISIONS["baseline"], "weight": 100},
               {"revisionName": APP_FOREIGN, "weight": 0, "label": "old"}]  # fmt: skip
    arm.app_revisions = {*APP_REVISIONS.values(), APP_FOREIGN}
    arm.apps[APP] = {
        "id": APP_PATH, "name": APP, "type": "Microsoft.App/containerApps",
        "location": "West Europe", "tags": {"team": "shop"},
        "properties": {"provisioningState": "Succeeded",
                       "latestRevisionName": APP_REVISIONS["canary"],
                       "latestReadyRevisionName": APP_REVISIONS["canary"],
                       "configuration": {"activeRevisionsMode": "Multiple",
                                         "ingress": {"external": True, "targetPort": 8080,
                                                     "traffic": traffic}},
                       "template": {"containers": [{"name": "web", "image": "shop:v2"}],
                                    "scale": {"minReplicas": 1, "maxReplicas": 10}}},
    }  # fmt: skip
    arm.configs[SITE] = {"numberOfWorkers": 1, "experiments": {"rampUpRules": []}}
    arm.images.update({"production": "shop:v1", SLOT: "shop:v2"})
    for items in (arm.operations, arm.requests, arm.bodies, arm.before_write):
        items.clear()
    arm.polls = 1


@contextlib.contextmanager
def running_arm(directory: Path) -> Iterator[tuple[FakeARM, Path]]:
    """The fake ARM over TLS on a free port; yields it and the certificate to trust."""
    arm = FakeARM()
    context, cert = self_signed(directory)

    def handle(method: str, path: str, query: Any, headers: Any, body: bytes) -> Any:
        code, answer, extra = arm.handle(method, path, query, headers, body)
        arm.requests.append(f"{method} {path} {code}")
        return code, answer, extra

    with json_server(handle, context) as url:
        arm.url = url
        reset(arm)
        yield arm, cert


@dataclass(frozen=True)
class RouterSetup:
    router: Any
    api: FakeARM
    cert: Path


CONFIG = {
    "azure_container_apps": {"resource_group": RG, "app": APP, "revisions": APP_REVISIONS},
    "azure_functions": {"resource_group": RG, "site": SITE,
                        "slots": {"baseline": "production", "canary": SLOT}},
}  # fmt: skip


def azure_router(kind: str, url: str, cert: Path | None, **config: Any) -> Any:
    """A router of `kind` on the fake's objects through `url`, trusting `cert`."""
    from sentra_adapters.traffic.registry import routers

    config = {**CONFIG[kind], "subscription_id": SUB, "base_url": url, "timeout": 2.0,
              "credential": FakeCredential(), "poll_interval": 0.01,
              "connection_verify": None if cert is None else str(cert), **config}  # fmt: skip
    return routers.create(kind, **config)


@contextlib.contextmanager
def running_azure_router(kind: str, directory: Path) -> Iterator[RouterSetup]:
    """The fake ARM and a router of `kind` on it."""
    with running_arm(directory) as (arm, cert):
        yield RouterSetup(azure_router(kind, arm.url, cert), arm, cert)


@contextlib.contextmanager
def answering_tls(directory: Path, status: int, body: Any) -> Iterator[tuple[str, Path, list[str]]]:
    """An HTTPS endpoint answering every request with `status` and JSON `body`; yields its URL,
    the certificate to trust and the log of requests."""
    context, cert = self_signed(directory)
    seen: list[str] = []

    def handle(method: str, path: str, query: Any, headers: Any, data: bytes) -> Answer:
        seen.append(f"{method} {path}")
        return status, body, {}

    with json_server(handle, context) as url:
        yield url, cert, seen
