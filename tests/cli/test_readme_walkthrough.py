"""The README's service walkthrough, run as a reader runs it: its shell blocks, taken from the
README, in bash against a real `sentra serve` (the first block, `sentra serve` itself, is started
by the test on a free port). The outputs the README shows for fixed answers must match."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from cli_service import free_port, wait_healthy  # type: ignore[import-not-found]

README = Path(__file__).resolve().parents[2] / "README.md"
BIN = Path(sys.executable).parent
FENCE = re.compile(r"```(\w+)\n(.*?)```", re.DOTALL)


def walkthrough() -> list[tuple[str, str]]:
    """The (language, text) code blocks between the walkthrough markers, in order."""
    text = README.read_text()
    region = text.split("<!-- walkthrough -->", 1)[1].split("<!-- /walkthrough -->", 1)[0]
    return [(m.group(1), m.group(2)) for m in FENCE.finditer(region)]


def script(port: int) -> str:
    """The shell blocks as one bash script, each block's output after a marker line; the stream
    follower runs in the background (stdin held open), writing stream.log."""
    parts = ["set -euo pipefail"]
    shell = [text for lang, text in walkthrough() if lang == "sh"]
    assert shell[0].strip() == "sentra serve"
    for i, block in enumerate(shell[1:], start=1):
        block = block.replace("127.0.0.1:8080", f"127.0.0.1:{port}")
        if "python -m websockets" in block:
            block = f"(sleep 40 | {block.strip()}) > stream.log 2>&1 &\nsleep 1"
        parts += [f"printf '\\n::block {i}::\\n'", block]
    return "\n".join(parts)


def _outputs(stdout: str) -> dict[int, str]:
    pieces = re.split(r"^::block (\d+)::$", stdout, flags=re.MULTILINE)
    return {int(pieces[i]): pieces[i + 1].strip() for i in range(1, len(pieces), 2)}


def run_walkthrough(folder: Path) -> tuple[dict[int, str], str, str]:
    """(each block's stdout, stderr, the stream's log) of the walkthrough in `folder`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SENTRA_")}
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    port = free_port()
    serve = subprocess.Popen(
        [str(BIN / "sentra"), "serve", "--port", str(port)],
        cwd=folder, env=env, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_healthy(port)
        # a session of its own: the stream follower it leaves in the background is in its group
        bash = subprocess.Popen(
            ["bash", "-c", script(port)], cwd=folder, env=env, text=True,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
        )  # fmt: skip
        try:
            stdout, stderr = bash.communicate(timeout=120)
        finally:
            time.sleep(1)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(bash.pid, signal.SIGTERM)
        assert bash.returncode == 0, stderr
        stream = (folder / "stream.log").read_text()
        return _outputs(stdout), stderr, stream
    finally:
        serve.terminate()
        serve.wait(timeout=20)


@pytest.mark.timeout(180)
@pytest.mark.skipif(shutil.which("curl") is None, reason="the walkthrough uses curl")
def test_the_readme_walkthrough_runs_as_shown(tmp_path: Path) -> None:
    out, err, stream = run_walkthrough(tmp_path)
    shown = [text.strip() for lang, text in walkthrough() if lang != "sh"]
    # 1: the token, in this folder's database
    assert f"token 1 'me' (operator) stored in sqlite:///{tmp_path}/.sentra/sentra.db" in err
    # 2: the rollout, every field of the body taken
    rollout = json.loads(out[2])
    assert rollout["state"] == "running" and rollout["created_by"] == "token:me"
    assert rollout["spec"]["policy"]["harm_budget"] == 2.0
    assert rollout["spec"]["metrics"][0]["slo"]["objective"] == 0.01
    # 3: the batch, exactly as shown
    assert out[3] == '{"accepted":60}' and '{"accepted":60}' in shown
    # 4: a verdict that continues at 1 %, healthy
    verdict = json.loads(out[4])
    assert verdict["state"] == "running" and verdict["verdict"]["action"] == "continue"
    assert verdict["verdict"]["weight"] == 1.0 and verdict["verdict"]["score"] == 100.0
    # 6: the actions: paused, a missing reason refused as shown, running again
    paused, refused, resumed = out[6].splitlines()
    assert json.loads(paused)["state"] == "paused" and json.loads(resumed)["state"] == "running"
    assert any(refused in block.splitlines() for block in shown)  # as the README shows it
    # 7: the regression rolled back
    lines = out[7].splitlines()
    assert lines[:4] == ['{"accepted":60}', "rolled_back", "rollback", "0.0"]
    assert lines[-1] == "rolling back: critical metric regressed"
    # 5: the stream saw the person's pause and the judge's rollback
    # the client prints each message as "< {...}" (after cursor moves when not on a terminal)
    messages = [json.loads(m) for m in re.findall(r"^.*?< (\{.*\})$", stream, re.MULTILINE)]
    assert any(m["type"] == "state" and m["state"] == "paused" for m in messages), stream
    assert any(m["type"] == "verdict" and m["action"] == "rollback" for m in messages), stream


def test_the_readmes_source_and_target_are_configs_sentra_takes() -> None:
    from sentra_adapters.telemetry.registry import sources
    from sentra_adapters.traffic.registry import routers

    text = README.read_text()
    block = text.split("Add to the `POST /v1/rollouts` body:\n\n```json\n", 1)[1].split("```")[0]
    config = json.loads("{" + block + "}")
    source = sources.from_config(config["source"], "source")
    assert type(source).__name__ == "PrometheusSource"
    assert type(routers.from_config(config["target"], "target")).__name__ == "NginxRouter"


def test_every_link_of_the_readme_and_docs_exists() -> None:
    root = README.parent
    for page in [README, *sorted((root / "docs").glob("*.md"))]:
        for target in re.findall(r"\]\(([^)#]+)\)", page.read_text()):
            if "://" not in target:
                assert (page.parent / target).exists(), (page.name, target)
