"""The RBAC that Sentra's Kubernetes routers need, read from their code: which client methods
each router module calls (`self.api.<method>`), on which API group and resource."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

ROUTERS = Path(__file__).resolve().parents[2] / "adapters" / "sentra_adapters" / "traffic" / "k8s"

# typed-client methods: (group, resource, verb)
TYPED = {
    "read_namespaced_ingress": ("networking.k8s.io", "ingresses", "get"),
    "patch_namespaced_ingress": ("networking.k8s.io", "ingresses", "patch"),
    "read_namespaced_deployment": ("apps", "deployments", "get"),
    "patch_namespaced_deployment": ("apps", "deployments", "patch"),
}
# CustomObjectsApi methods: (verb, subresource); group and plural come from the call's arguments
CUSTOM = {
    "get_namespaced_custom_object": ("get", ""),
    "replace_namespaced_custom_object": ("update", ""),
    "patch_namespaced_custom_object": ("patch", ""),
    "patch_namespaced_custom_object_status": ("patch", "/status"),
}

Rules = dict[tuple[str, str], set[str]]


def _constants(tree: ast.Module) -> dict[str, str]:
    """Module-level string constants, also from tuple assignments (`A, B = "a", "b"`)."""
    found: dict[str, str] = {}
    for node in tree.body:
        if not isinstance(node, ast.Assign):
            continue
        for target in node.targets:
            pairs: list[tuple[ast.expr, ast.expr]] = []
            if isinstance(target, ast.Name):
                pairs = [(target, node.value)]
            elif isinstance(target, ast.Tuple) and isinstance(node.value, ast.Tuple):
                pairs = list(zip(target.elts, node.value.elts, strict=True))
            for name, value in pairs:
                literal = isinstance(value, ast.Constant) and isinstance(value.value, str)
                if isinstance(name, ast.Name) and literal:
                    found[name.id] = value.value  # type: ignore[attr-defined]
    return found


def _api_methods(tree: ast.Module) -> set[str]:
    return {
        node.attr
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Attribute)
        and node.value.attr == "api"
        and isinstance(node.value.value, ast.Name)
        and node.value.value.id == "self"
    }


def _custom_resources(tree: ast.Module, constants: dict[str, str]) -> set[tuple[str, str]]:
    """(group, plural) of each call that passes the module's GROUP constant: the arguments go
    group, version, namespace, plural, as CustomObjectsApi takes them."""

    def value(node: ast.expr) -> str | None:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return node.value
        return constants.get(node.id) if isinstance(node, ast.Name) else None

    found = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        for i, arg in enumerate(node.args):
            if isinstance(arg, ast.Name) and arg.id == "GROUP" and i + 3 < len(node.args):
                group, plural = value(arg), value(node.args[i + 3])
                assert group and plural, f"line {node.lineno}: cannot read the group or plural"
                found.add((group, plural))
    return found


def needed_rules() -> Rules:
    """(group, resource) -> verbs over every router module; an unknown client method fails,
    so that a router calling something new cannot go unnoticed by the ClusterRole."""
    rules: Rules = defaultdict(set)
    for path in sorted(ROUTERS.glob("*.py")):
        tree = ast.parse(path.read_text())
        methods = _api_methods(tree)
        resources = _custom_resources(tree, _constants(tree))
        for method in methods:
            if method in TYPED:
                group, resource, verb = TYPED[method]
                rules[(group, resource)].add(verb)
            elif method in CUSTOM:
                assert len(resources) == 1, f"{path.name}: custom resources {resources}"
                ((group, plural),) = resources
                verb, sub = CUSTOM[method]
                rules[(group, plural + sub)].add(verb)
            else:
                raise AssertionError(f"{path.name}: self.api.{method}: add it to router_rbac.py")
    return dict(rules)


def granted_rules(rules: list[dict[str, list[str]]]) -> Rules:
    """A ClusterRole's rules as (group, resource) -> verbs."""
    granted: Rules = defaultdict(set)
    for rule in rules:
        assert "*" not in rule["verbs"] and "*" not in rule["resources"], rule
        for group in rule["apiGroups"]:
            for resource in rule["resources"]:
                granted[(group, resource)] |= set(rule["verbs"])
    return dict(granted)
