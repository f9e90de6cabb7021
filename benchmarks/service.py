"""The verdict service under load, driven from another process over loopback.

    .venv/bin/python benchmarks/service.py [--clients 200] [--seconds 10] [--out benchmarks/results]
        [--database-url mysql+pymysql://root@127.0.0.1:3306/test --redis-url redis://127.0.0.1:6379/0]

Starts `sentra serve` with a token, creates a rollout, then measures:
  GET  /v1/rollouts/{id}/verdict   (--clients concurrent clients)   p50/p99, requests/s
  GET  /healthz                    (same clients; the framework's floor, the baseline)
  POST /v1/rollouts/{id}/telemetry (batches of 1,000 lines)          samples/s
  POST /v1/otlp/v1/metrics         (protobuf, 1,000 samples in 1,500 points) samples/s
  POST /v1/verdicts                (one-shot, 2 metrics x 2 cohorts x 30 intervals)
  WebSocket delivery: verdict computed -> message received by a subscriber
Writes service.md, service.json and service.png.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
SENTRA = str(Path(sys.executable).with_name("sentra"))
METRICS = [
    {"name": "errors", "kind": "ratio", "critical": True, "tolerance": 0.2},
    {"name": "latency_ms", "kind": "latency", "tolerance": 0.2},
]
OTLP_ROW = "POST OTLP metrics (1,000 samples, 1,500 points)"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def telemetry(start: float, intervals: int, per_cohort: int = 1) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    rng = np.random.default_rng(1)
    for k in range(intervals):
        for cohort in ("baseline", "canary"):
            for i in range(per_cohort):
                ts = start + 2 * k
                failed = int(rng.poisson(1.0))
                out.append({"ts": ts, "cohort": cohort, "metric": "errors", "total": 100,
                            "failed": failed, "instance": f"i{i}"})  # fmt: skip
                values = [round(float(v), 2) for v in rng.lognormal(3.0, 0.4, 20)]
                out.append({"ts": ts, "cohort": cohort, "metric": "latency_ms", "values": values})
    return out


def otlp_request(rollout: str, ts: float, instances: int = 250) -> bytes:
    """An OTLP protobuf export of delta counters (ok, failed) and latency histograms: one ratio
    and one latency sample per instance and cohort (a delta body can be sent again and again)."""
    from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2 as service
    from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
    from opentelemetry.proto.metrics.v1 import metrics_pb2 as m

    def attr(key: str, value: str) -> KeyValue:
        return KeyValue(key=key, value=AnyValue(string_value=value))

    delta = m.AggregationTemporality.AGGREGATION_TEMPORALITY_DELTA
    end = int(ts * 1e9)
    begin = end - 2 * 10**9
    rng = np.random.default_rng(2)
    request = service.ExportMetricsServiceRequest()
    for cohort in ("baseline", "canary"):
        for i in range(instances):
            rm = request.resource_metrics.add()
            rm.resource.attributes.extend(
                [attr("sentra.rollout", rollout), attr("sentra.cohort", cohort),
                 attr("service.instance.id", f"i{i}")]
            )  # fmt: skip
            sm = rm.scope_metrics.add()
            errors = sm.metrics.add(name="errors")
            errors.sum.is_monotonic, errors.sum.aggregation_temporality = True, delta
            failed = int(rng.poisson(1.0))
            for outcome, n in (("ok", 100 - failed), ("failed", failed)):
                point = errors.sum.data_points.add(
                    start_time_unix_nano=begin, time_unix_nano=end, as_int=n
                )
                point.attributes.append(attr("sentra.outcome", outcome))
            latency = sm.metrics.add(name="latency_ms", unit="ms")
            latency.histogram.aggregation_temporality = delta
            h = latency.histogram.data_points.add(
                start_time_unix_nano=begin, time_unix_nano=end, count=20
            )
            h.explicit_bounds.extend([5.0, 10, 25, 50, 100, 250, 500, 1000])
            h.bucket_counts.extend([0, 1, 6, 9, 3, 1, 0, 0, 0])
    return request.SerializeToString()


async def _hammer(
    method: str,
    url: str,
    headers: dict[str, str],
    body: Any,
    clients: int,
    seconds: float,
    every: float,
) -> dict[str, Any]:
    """`clients` concurrent loops for `seconds`, each sending a request every `every` s (0: back
    to back); the latency of every request (s) and the failures. aiohttp, because httpx's async
    pool collapses past ~50 connections (measured: 189 req/s at 50 against 1,500 here)."""
    import aiohttp

    latencies: list[float] = []
    errors = 0
    payload = body if body is None or isinstance(body, bytes) else json.dumps(body).encode()
    send_headers = {"content-type": "application/json", **headers}
    deadline = time.perf_counter() + seconds
    connector = aiohttp.TCPConnector(limit=clients)
    async with aiohttp.ClientSession(connector=connector, headers=send_headers) as session:

        async def loop(offset: float) -> None:
            nonlocal errors
            await asyncio.sleep(offset)
            nxt = time.perf_counter()
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                try:
                    async with session.request(method, url, data=payload) as response:
                        await response.read()
                        ok = response.status < 300
                except aiohttp.ClientError:
                    ok = False
                latencies.append(time.perf_counter() - started)
                errors += not ok
                nxt += every
                await asyncio.sleep(max(0.0, nxt - time.perf_counter()))

        begun = time.perf_counter()
        await asyncio.gather(*(loop(every * i / clients) for i in range(clients)))
        elapsed = time.perf_counter() - begun
    return {"latencies": latencies, "errors": errors, "elapsed": elapsed}


def _load_process(args: tuple[Any, ...]) -> dict[str, Any]:
    return asyncio.run(_hammer(*args))


def load(
    method: str,
    url: str,
    headers: dict[str, str],
    body: Any,
    clients: int,
    seconds: float,
    every: float = 0.0,
) -> dict[str, Any]:
    """Run the clients in a separate process, so they do not share the server's interpreter."""
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        result: dict[str, Any] = pool.apply(
            _load_process, ((method, url, headers, body, clients, seconds, every),)
        )
    lat = np.array(result["latencies"]) * 1000
    return {
        "requests": len(lat),
        "errors": result["errors"],
        "rps": len(lat) / result["elapsed"],
        "p50_ms": float(np.percentile(lat, 50)),
        "p99_ms": float(np.percentile(lat, 99)),
        "latencies_ms": lat.tolist(),
    }


async def websocket_delay(base: str, rid: str, token: str, count: int) -> list[float]:
    """ms from a verdict's evaluation time to its arrival at a WebSocket subscriber."""
    import websockets

    url = base.replace("http", "ws") + f"/v1/rollouts/{rid}/stream?token={token}"
    delays: list[float] = []
    async with websockets.connect(url) as ws:
        await ws.recv()  # the current verdict, sent on connect
        while len(delays) < count:
            message = json.loads(await ws.recv())
            if message["type"] == "verdict":
                delays.append((time.time() - message["ts"]) * 1000)
    return delays


def start_server(env: dict[str, str], port: int, workers: int) -> subprocess.Popen[bytes]:
    command = [SENTRA, "serve", "--port", str(port), "--workers", str(workers)]
    server = subprocess.Popen(command, env=env, cwd=ROOT)
    for _ in range(200):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    server.kill()
    raise SystemExit("the service did not become ready")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks/results")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn workers (> 1 needs Redis)")
    parser.add_argument("--database-url")
    parser.add_argument("--redis-url")
    args = parser.parse_args()
    console = Console()
    data_dir = tempfile.mkdtemp(prefix="sentra-bench-")
    env = {**os.environ, "SENTRA_DATA_DIR": data_dir, "SENTRA_EVALUATION_INTERVAL_SECONDS": "0.5"}
    if args.database_url:
        env["SENTRA_DATABASE_URL"] = args.database_url
    if args.redis_url:
        env["SENTRA_REDIS_URL"] = args.redis_url
    token = subprocess.run(
        [SENTRA, "token", "create", "--name", f"bench-{os.getpid()}", "--role", "operator"],
        env=env, check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    headers = {"Authorization": f"Bearer {token}"}
    server = start_server(env, port, args.workers)
    results: dict[str, dict[str, Any]] = {}
    try:
        rollout = httpx.post(
            f"{base}/v1/rollouts", headers=headers,
            json={"service": "bench", "baseline_version": "v1", "canary_version": "v2",
                  "metrics": METRICS, "stale_after_seconds": 600, "grace_seconds": 3600},
        ).json()  # fmt: skip
        rid = rollout["id"]
        now = time.time()
        httpx.post(f"{base}/v1/rollouts/{rid}/telemetry", headers=headers,
                   json={"lines": telemetry(now - 60, 30)})  # fmt: skip
        time.sleep(1.5)  # let the loop judge once, so that reads return a verdict
        # delivery first, on a quiet server: the loads below leave a telemetry backlog
        delays = asyncio.run(websocket_delay(base, rid, token, 20))
        verdict_url = f"{base}/v1/rollouts/{rid}/verdict"
        n = args.clients
        plan = [
            ("GET /healthz (baseline)", "GET", f"{base}/healthz", None, n, 0.0),
            ("GET verdict", "GET", verdict_url, None, n, 0.0),
            ("GET /healthz, each client every 0.5 s", "GET", f"{base}/healthz", None, n, 0.5),
            ("GET verdict, each client every 0.5 s", "GET", verdict_url, None, n, 0.5),
            ("POST telemetry (1,000 lines)", "POST", f"{base}/v1/rollouts/{rid}/telemetry",
             {"lines": telemetry(time.time() - 10, 5, per_cohort=50)}, 8, 0.0),
            (OTLP_ROW, "POST", f"{base}/v1/otlp/v1/metrics",
             otlp_request(rid, time.time() - 5), 8, 0.0),
            ("POST /v1/verdicts", "POST", f"{base}/v1/verdicts",
             {"spec": {"metrics": METRICS}, "lines": telemetry(1000.0, 30)}, 16, 0.0),
        ]  # fmt: skip
        with Progress(console=console) as progress:
            task = progress.add_task("load", total=len(plan))
            for name, method, url, body, clients, every in plan:
                progress.update(task, description=f"{name} ({clients} clients)")
                sent = headers
                if isinstance(body, bytes):
                    sent = {**headers, "content-type": "application/x-protobuf"}
                results[name] = {
                    "clients": clients,
                    "every_s": every,
                    **load(method, url, sent, body, clients, args.seconds, every),
                }
                progress.advance(task)
    finally:
        server.terminate()
        server.wait(10)
    for name in ("POST telemetry (1,000 lines)", OTLP_ROW):
        results[name]["samples_per_s"] = results[name]["rps"] * 1000
    report(console, results, delays, args)


def report(
    console: Console,
    results: dict[str, dict[str, Any]],
    delays: list[float],
    args: argparse.Namespace,
) -> None:
    floors = {0.0: results["GET /healthz (baseline)"]["rps"],
              0.5: results["GET /healthz, each client every 0.5 s"]["rps"]}  # fmt: skip
    backend = "MariaDB + Redis" if args.redis_url else "SQLite + in-process bus"
    title = f"Sentra service on loopback: {args.workers} worker(s), {backend}"
    table = Table(title=title)
    for col in (
        "endpoint",
        "clients",
        "requests/s",
        "vs /healthz",
        "p50 ms",
        "p99 ms",
        "errors",
        "samples/s",
    ):
        table.add_column(col, justify="right" if col != "endpoint" else "left")
    rows = []
    for name, r in results.items():
        ratio = r["rps"] / floors.get(r["every_s"], floors[0.0])
        samples = f"{r['samples_per_s']:.0f}" if "samples_per_s" in r else ""
        row = [name, str(r["clients"]), f"{r['rps']:.0f}", f"{ratio:.2f}x", f"{r['p50_ms']:.1f}",
               f"{r['p99_ms']:.1f}", str(r["errors"]), samples]  # fmt: skip
        rows.append(row)
        table.add_row(*row)
    console.print(table)
    ws = {"p50_ms": statistics.median(delays), "max_ms": max(delays), "n": len(delays)}
    console.print(
        f"WebSocket: verdict -> subscriber p50 {ws['p50_ms']:.1f} ms, max {ws['max_ms']:.1f} ms"
    )
    args.out.mkdir(parents=True, exist_ok=True)
    command = "python benchmarks/service.py " + " ".join(sys.argv[1:])
    md = [f"# Service benchmark: {title}\n\n`{command.strip()}` on {os.cpu_count()} cores, "
          f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}\n",
          "| " + " | ".join(c.header for c in table.columns) + " |",  # type: ignore[attr-defined]
          "|---" + "|--:" * (len(table.columns) - 1) + "|"]  # fmt: skip
    md += ["| " + " | ".join(r) + " |" for r in rows]
    md.append(f"\nWebSocket delivery, verdict computed -> received: median {ws['p50_ms']:.1f} ms, "
              f"max {ws['max_ms']:.1f} ms over {ws['n']} verdicts.\n")  # fmt: skip
    (args.out / "service.md").write_text("\n".join(md))
    slim = {k: {kk: vv for kk, vv in v.items() if kk != "latencies_ms"} for k, v in results.items()}
    (args.out / "service.json").write_text(
        json.dumps({"endpoints": slim, "websocket": ws}, indent=1)
    )
    plot(results, args.out / "service.png")


def plot(results: dict[str, dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 4.5))
    for name, r in results.items():
        lat = np.sort(np.array(r["latencies_ms"]))
        ax.plot(
            lat, np.arange(1, len(lat) + 1) / len(lat), label=f"{name} ({r['clients']} clients)"
        )
    ax.set_xscale("log")
    ax.set_xlabel("latency (ms, log)")
    ax.set_ylabel("share of requests")
    ax.axhline(0.99, color="grey", lw=0.5, ls=":")
    ax.set_title("Sentra service latency on loopback")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


if __name__ == "__main__":
    main()
