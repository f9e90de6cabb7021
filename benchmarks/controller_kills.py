"""Kill -9 a real controller at random instants of many rollouts through a real NGINX, and check
the audit's weight ledger against the weights NGINX loaded (needs MariaDB, Redis and nginx).

    .venv/bin/python benchmarks/controller_kills.py [--kills 50] [--seed 1] [--out DIR]

The harness is the one `tests/controller/test_kill_controller.py` runs with 4 kills.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for folder in ("tests/controller", "tests/adapters", "tests/api", "."):
    sys.path.insert(0, str(ROOT / folder))

from api_helpers import start  # noqa: E402
from kill_harness import run_kills  # noqa: E402
from nginx_server import running_nginx  # noqa: E402
from rich.console import Console  # noqa: E402

from sentra_ml.settings import Settings  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=50)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--database-url", default="mysql+pymysql://root@127.0.0.1:3306/test")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/14")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="sentra-kills-"))
    settings = Settings(
        data_dir=folder / "sentra", database_url=args.database_url, redis_url=args.redis_url
    )
    console = Console()
    with console.status(f"{args.kills} kills ..."):
        for api in start(settings):
            with running_nginx(folder / "nginx") as nginx:
                report = run_kills(api, settings, nginx, folder, kills=args.kills, seed=args.seed)
    mismatched = sum(h != r for h, r in zip(report.history, report.reached, strict=True))
    console.print(
        f"{report.kills} kills over {report.rollouts} rollouts ({report.promoted} promoted) in "
        f"{report.seconds:.0f} s; weight changes NGINX loaded: "
        f"{sum(map(len, report.history))}, recorded as reached: {sum(map(len, report.reached))}; "
        f"rollouts whose ledger differs from NGINX's history: {mismatched}"
    )
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "controller_kills.json").write_text(
        json.dumps({**report.__dict__, "mismatched_rollouts": mismatched}, indent=1)
    )


if __name__ == "__main__":
    main()
