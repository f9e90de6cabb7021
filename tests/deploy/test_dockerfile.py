"""The Dockerfile read as Docker reads it (no engine runs here): two stages, the runtime stage
copies only the builder's virtualenv, runs as a non-root user, and every COPY'd path exists."""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass
from fnmatch import fnmatch
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sentra_ml.cli import app

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Instruction:
    keyword: str
    args: str

    def words(self) -> list[str]:
        """The arguments, from the JSON (exec) form or else split as a shell would."""
        if self.args.startswith("["):
            words: list[str] = json.loads(self.args)
            return words
        return shlex.split(self.args)


def instructions(text: str) -> list[Instruction]:
    """Each instruction with its continuation lines joined; comments and blanks dropped."""
    found: list[Instruction] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.startswith("#"):
            continue  # a comment inside a continued instruction
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        keyword, _, args = (pending + line).partition(" ")
        found.append(Instruction(keyword.upper(), " ".join(args.split())))
        pending = ""
    assert not pending, "the Dockerfile ends inside a continued line"
    return found


def stages(found: list[Instruction]) -> dict[str, list[Instruction]]:
    """Instructions by stage name (`FROM image AS name`)."""
    named: dict[str, list[Instruction]] = {}
    current: list[Instruction] | None = None
    for ins in found:
        if ins.keyword == "FROM":
            words = ins.args.split()
            assert len(words) == 3 and words[1].lower() == "as", f"unnamed stage: FROM {ins.args}"
            current = named.setdefault(words[2], [])
        elif current is not None:
            current.append(ins)
    return named


DOCKERFILE = instructions((ROOT / "Dockerfile").read_text())
STAGES = stages(DOCKERFILE)


def of(stage: str, keyword: str) -> list[Instruction]:
    return [i for i in STAGES[stage] if i.keyword == keyword]


def test_the_image_has_a_builder_and_a_runtime_stage_from_the_same_python() -> None:
    # the runtime stage comes last: a plain `docker build` makes it; compose's MLflow server
    # (the runtime's virtualenv plus the full mlflow package) is built with --target
    assert list(STAGES) == ["builder", "mlflow-server", "runtime"]
    bases = [i.args.split()[0] for i in DOCKERFILE if i.keyword == "FROM"]
    assert len(set(bases)) == 1, f"the virtualenv is copied between stages: {bases}"
    assert "-slim" in bases[0]


def test_the_builder_makes_the_wheel_and_installs_it_with_the_lock_and_no_dev_extras() -> None:
    runs = " && ".join(i.args for i in of("builder", "RUN"))
    assert "pip wheel --no-deps --no-build-isolation" in runs
    assert "-c requirements.lock /wheels/sentra_ml-*.whl" in runs
    assert "[dev]" not in runs and ".[" not in runs


def test_the_runtime_copies_only_the_virtualenv_and_runs_as_a_user_that_is_not_root() -> None:
    copies = of("runtime", "COPY")
    assert [c.args for c in copies] == [
        "--from=builder /opt/sentra /opt/sentra",
        "models/default /opt/sentra-models/default",  # the fallback model and its card
    ]
    (env,) = of("runtime", "ENV")
    assert "SENTRA_DEFAULT_MODEL_DIR=/opt/sentra-models/default" in env.words()
    (user,) = of("runtime", "USER")
    uid = user.args.split(":")[0]
    assert uid not in ("0", "root"), user.args
    assert uid.isdigit(), "a numeric uid lets Kubernetes check runAsNonRoot"
    assert not any("pip install" in r.args for r in of("runtime", "RUN"))


def test_every_copied_path_exists_and_passes_the_dockerignore() -> None:
    patterns = [
        p.strip() for p in (ROOT / ".dockerignore").read_text().splitlines()
        if p.strip() and not p.startswith("#")
    ]  # fmt: skip

    def sent(path: str) -> bool:  # Docker's rule: the last matching pattern wins
        keep = True
        for pattern in patterns:
            negated = pattern.startswith("!")
            bare = pattern.removeprefix("!").rstrip("/")
            if fnmatch(path, bare) or path.startswith(bare + "/"):
                keep = negated
        return keep

    for copy in [*of("builder", "COPY"), *of("runtime", "COPY")]:
        if any(w.startswith("--from=") for w in copy.words()):
            continue
        *sources, _ = [w for w in copy.words() if not w.startswith("--")]
        for source in sources:
            assert (ROOT / source).exists(), f"COPY {source}: not in the repository"
            assert sent(source), f"COPY {source}: excluded by .dockerignore"
    assert not sent("tests/conftest.py") and not sent(".venv/bin/python")


def test_the_entrypoint_is_sentra_and_the_default_command_serves_on_all_addresses() -> None:
    (entrypoint,) = of("runtime", "ENTRYPOINT")
    (cmd,) = of("runtime", "CMD")
    assert entrypoint.words() == ["sentra"]
    words = cmd.words()
    assert words[0] == "serve" and words[words.index("--host") + 1] == "0.0.0.0"
    result = CliRunner().invoke(app, [*words, "--help"])
    assert result.exit_code == 0, result.output


def test_the_health_check_asks_healthz_on_the_served_port() -> None:
    (check,) = of("runtime", "HEALTHCHECK")
    port = of("runtime", "CMD")[0].words()
    assert "CMD" in check.args.split()
    assert f"127.0.0.1:{port[port.index('--port') + 1]}/healthz" in check.args


@pytest.mark.parametrize("name", ["README.md", "pyproject.toml", "requirements.lock"])
def test_the_files_the_wheel_build_needs_are_copied(name: str) -> None:
    copied = " ".join(c.args for c in of("builder", "COPY"))
    assert name in copied
