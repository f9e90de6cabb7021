"""`sentra rollouts` when something is wrong: each failure is one clear line naming the cause and
an exit code a script can tell apart, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from adapter_servers import free_port  # type: ignore[import-not-found]
from live_service import LiveService  # type: ignore[import-not-found]
from typer.testing import CliRunner, Result

from sentra_ml.cli import app
from sentra_ml.store.tokens import Role

runner = CliRunner()


def sentra(env: dict[str, str], *argv: str) -> Result:
    return runner.invoke(app, ["rollouts", *argv], env=env)


def assert_clean_failure(result: Result, code: int, *words: str) -> None:
    assert result.exit_code == code, (result.exit_code, result.output)
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    message = " ".join(result.stderr.split())  # the console may wrap a long line
    assert message.startswith("error: "), message
    for word in words:
        assert word in message, message


@pytest.mark.parametrize(
    "argv",
    [["list"], ["get", "abc", "--watch"], ["wait", "abc"], ["pause", "abc", "--reason", "x"]],
)
def test_an_unreachable_service_exits_3(argv: list[str]) -> None:
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    result = sentra({"SENTRA_URL": url}, *argv)
    assert_clean_failure(result, 3, f"cannot reach the service at {url}", "connection refused")


def test_a_url_that_is_not_http_is_a_usage_error() -> None:
    result = sentra({"SENTRA_URL": "127.0.0.1:8080"}, "list")
    assert_clean_failure(result, 2, "--url: '127.0.0.1:8080' must be an http:// or https://")


@pytest.mark.timeout(60)
def test_auth_not_found_and_refused_requests(service: LiveService, tmp_path: Path) -> None:
    rid = service.create()
    no_token = sentra(service.env(None), "list")
    assert_clean_failure(
        no_token, 4, "401 unauthorized", "bearer token is required", "SENTRA_TOKEN"
    )
    wrong = sentra({**service.env(None), "SENTRA_TOKEN": "not-a-token"}, "get", rid, "--watch")
    assert_clean_failure(wrong, 4, "401 unauthorized")
    viewer = sentra(service.env(Role.VIEWER), "abort", rid, "--reason", "x")
    assert_clean_failure(viewer, 4, "403 forbidden", "role 'viewer'", "needs 'operator'")

    for argv in (["get", "nope"], ["get", "nope", "--watch"], ["wait", "nope"],
                 ["resume", "nope", "--reason", "x"]):  # fmt: skip
        result = sentra(service.env(), *argv)
        assert_clean_failure(result, 5, "404 not found: rollout_id: no rollout 'nope'")
    slashed = sentra(service.env(), "get", "a/b?c")  # one path segment, never another route
    assert_clean_failure(slashed, 5, "404 not found: no /v1/rollouts/a%2Fb%3Fc at 127.0.0.1:")

    paused = sentra(service.env(), "resume", rid, "--reason", "x")  # it is running, not paused
    assert_clean_failure(paused, 6, "409 refused", "cannot resume a rollout that is running")
    bad_state = sentra(service.env(), "list", "--state", "finished")
    assert_clean_failure(bad_state, 6, "422 refused", "state:")

    body = tmp_path / "rollout.yaml"
    body.write_text("service: shop\nbaseline_version: v1\ncanary_version: v2\n"
                    "metrics: [{name: errors, kind: ratio, tolerance: -1}]\n")  # fmt: skip
    refused = sentra(service.env(), "create", "-f", str(body))
    assert_clean_failure(refused, 6, "422 refused", "metrics.0.tolerance")


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("service: [unclosed\n", ["not YAML or JSON", "line 2"]),
        ("- a list\n", ["must hold one object"]),
        ('{"service": "shop"\n', ["not YAML or JSON", "line 2"]),
    ],
)
def test_a_bad_rollout_file_is_refused_before_any_request(
    text: str, words: list[str], tmp_path: Path
) -> None:
    path = tmp_path / "rollout.yaml"
    path.write_text(text)
    url = f"http://127.0.0.1:{free_port()}"  # never asked: the file fails first
    assert_clean_failure(sentra({"SENTRA_URL": url}, "create", "-f", str(path)), 2, *words)


def test_a_missing_rollout_file_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    result = sentra({}, "create", "-f", str(missing))
    assert_clean_failure(result, 2, f"--filename: cannot read {missing}")
