"""`sentra rollouts` against the real service under uvicorn: create from a file, list, get, the
manual actions with their reasons in the audit, and `wait`'s exit codes for a healthy canary
promoted and a faulty one rolled back by the in-process controller."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from live_service import ROLLOUT_YAML, LiveService, Telemetry  # type: ignore[import-not-found]
from typer.testing import CliRunner, Result

from sentra_ml.cli import app
from sentra_ml.store.tokens import Role

runner = CliRunner()


def sentra(service: LiveService, *argv: str, role: Role | None = Role.OPERATOR) -> Result:
    return runner.invoke(app, ["rollouts", *argv], env=service.env(role))


def as_json(result: Result) -> Any:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.mark.timeout(60)
def test_create_from_yaml_or_json_then_list_and_get(service: LiveService, tmp_path: Path) -> None:
    as_yaml = tmp_path / "rollout.yaml"
    as_yaml.write_text(ROLLOUT_YAML.format(service="shop"))
    as_json_file = tmp_path / "rollout.json"
    as_json_file.write_text(json.dumps(yaml.safe_load(ROLLOUT_YAML.format(service="cart"))))

    created = sentra(service, "create", "-f", str(as_yaml))
    assert created.exit_code == 0, created.output
    assert "created: shop v1 → v2, running at 50 %" in created.stdout
    shop = created.stdout.split()[1]
    cart = as_json(sentra(service, "create", "-f", str(as_json_file), "-o", "json"))
    assert cart["service"] == "cart" and cart["state"] == "running"

    everything = as_json(sentra(service, "list", "-o", "json"))
    assert [r["id"] for r in everything["items"]] == [cart["id"], shop]  # newest first
    only_shop = as_json(sentra(service, "list", "--service", "shop", "-o", "json"))
    assert [r["id"] for r in only_shop["items"]] == [shop]
    assert as_json(sentra(service, "list", "--state", "paused", "-o", "json"))["items"] == []
    table = sentra(service, "list", role=Role.VIEWER)
    assert table.exit_code == 0 and shop in table.stdout and "◌ running" in table.stdout

    got = as_json(sentra(service, "get", shop, "-o", "json", role=Role.VIEWER))
    assert got["id"] == shop and got["state"] == "running" and got["weight"] == 50.0
    assert "verdict" in got  # the latest verdict, null until the controller first judges it
    text = sentra(service, "get", shop, role=Role.VIEWER)
    assert text.exit_code == 0, text.output
    assert f"Name:      {shop}" in text.stdout and "Status:    ◌ running" in text.stdout


@pytest.mark.timeout(60)
def test_pause_resume_and_abort_are_recorded_with_their_reasons(service: LiveService) -> None:
    rid = service.create()
    paused = sentra(service, "pause", rid, "--reason", "checking the dashboards")
    assert paused.exit_code == 0, paused.output
    assert f"rollout {rid}: running → paused (pause: checking the dashboards)" in paused.stdout
    resumed = as_json(sentra(service, "resume", rid, "--reason", "dashboards fine", "-o", "json"))
    assert resumed["state"] == "running"
    aborted = sentra(service, "abort", rid, "--reason", "customer escalation")
    assert aborted.exit_code == 0 and "running → aborted" in aborted.stdout

    events = service.call("GET", f"/v1/rollouts/{rid}/events").json()["items"]
    reasons = [(e["actor"], e["reason"]) for e in events if e["kind"] == "state"]
    operator = f"token:{Role.OPERATOR}-"
    assert [r for _, r in reasons[-3:]] == [
        "pause: checking the dashboards",
        "resume: dashboards fine",
        "abort: customer escalation",
    ]
    assert all(actor.startswith(operator) for actor, _ in reasons[-3:])
    ended = sentra(service, "wait", rid)  # an aborted rollout: a CI job must not go on
    assert ended.exit_code == 1 and f"rollout {rid}: aborted" in ended.stdout

    other = service.create()
    promoted = sentra(service, "promote", other, "--reason", "hotfix, verified by hand")
    assert promoted.exit_code == 0 and "running → promoted" in promoted.stdout
    assert sentra(service, "wait", other).exit_code == 0


@pytest.mark.timeout(90)
def test_wait_exits_0_when_a_healthy_canary_is_promoted(service: LiveService) -> None:
    rid = service.create()
    with Telemetry(service, rid, canary_failed=4) as telemetry:
        result = sentra(service, "wait", rid, "--timeout", "60", role=Role.VIEWER)
    assert telemetry.refused == []
    assert result.exit_code == 0, result.output
    assert f"rollout {rid}: promoted at 100 %" in result.stdout
    assert "state running → promoted by judge" in result.stderr  # the changes, logged


@pytest.mark.timeout(90)
def test_wait_exits_1_when_a_faulty_canary_is_rolled_back(service: LiveService) -> None:
    rid = service.create()
    with Telemetry(service, rid, canary_failed=40) as telemetry:
        result = sentra(service, "wait", rid, "--timeout", "60", "-o", "json", role=Role.VIEWER)
    assert telemetry.refused == []
    assert result.exit_code == 1, result.output
    final = json.loads(result.stdout)
    assert final["state"] == "rolled_back" and final["weight"] == 0.0
    assert "errors regression" in result.stderr  # the verdict that decided it


@pytest.mark.timeout(30)
def test_wait_has_its_own_exit_code_on_timeout(service: LiveService) -> None:
    rid = service.create()  # no telemetry: it stays running through its grace period
    result = sentra(service, "wait", rid, "--timeout", "1")
    assert result.exit_code == 124
    assert "timeout: still running after 1 s" in result.stderr


@pytest.mark.timeout(60)
def test_the_rollout_file_in_the_docs_is_accepted(service: LiveService, tmp_path: Path) -> None:
    doc = (Path(__file__).parents[2] / "docs" / "client.md").read_text()
    path = tmp_path / "rollout.yaml"
    path.write_text(doc.split("```yaml\n")[1].split("```")[0])
    created = as_json(sentra(service, "create", "-f", str(path), "-o", "json"))
    assert created["service"] == "checkout" and created["weight"] == 1.0
