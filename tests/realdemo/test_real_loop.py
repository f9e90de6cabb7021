"""The real loop, short: real NGINX, HAProxy and Envoy in front of two demo services, real
Prometheus scraping them every second, and `sentra serve` judging and shifting the traffic."""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sentra_ml.cli import app
from sentra_ml.realdemo.run import run_real


def require(*programs: str) -> None:
    bin_dir = str(Path(sys.executable).parent)
    for program in programs:
        found = shutil.which(program) or shutil.which(program, path=f"/usr/sbin:{bin_dir}")
        if found is None:
            message = f"{program} is not installed"
            if os.environ.get("CI") == "true":
                pytest.fail(message)
            pytest.skip(message)


@pytest.mark.timeout(400)
def test_nginx_promotes_a_healthy_canary_and_rolls_back_a_faulty_one(tmp_path: Path) -> None:
    require("nginx", "prometheus")
    document = run_real("nginx", tmp_path, short=True)
    healthy, faulty = document["scenarios"]
    assert healthy["state"] == "promoted", healthy["reasons"]
    assert healthy["weights"][0] == 5.0 and healthy["weights"][-1] == 100.0
    assert faulty["state"] == "rolled_back", faulty["reasons"]
    assert faulty["weights"][-1] == 0.0
    assert any("errors" in r for r in faulty["reasons"])
    # every weight the controller applied was seen served by NGINX and has a latency figure
    assert [x["weight"] for x in faulty["latencies"]] == faulty["weights"]
    assert all(x["total"] > 0 for s in document["scenarios"] for x in s["latencies"])
    assert faulty["seconds_onset_to_rollback"] is not None
    assert faulty["canary_failed"] > 0  # the fault was real: users of the canary saw errors
    written = json.loads((tmp_path / "real-loop-nginx-short.json").read_text())
    assert written["latency_seconds"]["n"] == len(healthy["latencies"]) + len(faulty["latencies"])
    assert (tmp_path / "real-loop-nginx-short.png").stat().st_size > 10_000


@pytest.mark.timeout(300)
@pytest.mark.parametrize("router", ["haproxy", "envoy"])
def test_a_faulty_canary_is_rolled_back_through_haproxy_and_envoy(
    router: str, tmp_path: Path
) -> None:
    require(router, "prometheus")
    result = CliRunner().invoke(
        app,
        [
            "demo",
            "--real",
            "--router",
            router,
            "--short",
            "--only",
            "error",
            "--out",
            str(tmp_path),
        ],
    )
    assert result.exit_code == 0, result.output
    document = json.loads((tmp_path / f"real-loop-{router}-short.json").read_text())
    (faulty,) = document["scenarios"]
    assert faulty["state"] == "rolled_back" and faulty["weights"][-1] == 0.0


def test_an_unknown_router_is_refused_by_name(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["demo", "--real", "--router", "traefik"])
    assert result.exit_code == 2
    assert "--router: must be one of nginx, haproxy, envoy" in result.output
