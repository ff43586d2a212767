"""``scripts/bench capacity``: the service's capacity under loadgen's mix, and what a write costs
as the tables grow.

**Knee.** For each database (the embedded SQLite file; a real PostgreSQL started on the load
core) and each source (``--sources``: e.g. the commit before a change and ``head``): the service
runs pinned to ``--server-core`` with the rate limiter off, no Redis, no tracing; ``loadgen``
runs pinned to ``--load-core`` in its own process, open loop, with the default mix. The arrival
rate steps up (``--rates``) until a step misses: p99 > 100 ms, achieved < 99 % of the target,
an arrival dropped, or an error. Each step reports achieved rate, p50, p99, the server's CPU
(fraction of its core, from ``/proc``), the generator's CPU and verdict, PostgreSQL's CPU, the
cache hit ratio (from ``/metrics``) and requests per server-CPU-second.

**Write cost** (``--write-cost``, SQLite): ``POST /api/posts`` and comments alone at a fixed
rate, with the tables filled to 100, 1,000, 10,000 and 100,000 posts (one comment each): CPU
per write must not grow with the table (C2 in issue 11).

Results: a table on stdout, ``--json``, and a PNG of latency against arrival rate (``--plot``).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shlex
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks import capacity_report, load
from benchmarks.snapshot import ROOT, snapshot
from tests.support.postgres_server import PostgresServer, postgres_bin_dir

P99_LIMIT_MS = 100.0
DEFAULT_RATES = "250,500,750,1000,1200,1400,1600,1800,2000"
WRITE_COST_SIZES = (100, 1_000, 10_000, 100_000)
_LOOKUPS = re.compile(
    r'^plexichat_cache_lookups_total\{[^}]*cache_result="(hit|miss)"[^}]*\} (\S+)', re.M
)


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _lookups(url: str) -> dict[str, float]:
    with urllib.request.urlopen(f"{url}/metrics", timeout=30) as resp:
        text = resp.read().decode()
    counts = {"hit": 0.0, "miss": 0.0}
    for result, value in _LOOKUPS.findall(text):
        counts[result] += float(value)
    return counts


class Served:
    """The service of one source on one database, pinned to the server core; ``metrics_url`` is
    its ``/metrics``, on a second listener of its own when ``metrics_listener`` is set."""

    def __init__(
        self,
        args: argparse.Namespace,
        env: dict[str, str],
        db_url: str | None,
        metrics_listener: bool = False,
    ) -> None:
        self.home = Path(tempfile.mkdtemp(prefix="plexichat-capacity-"))
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.metrics_url = f"{self.url}/metrics"
        env = {
            **{k: v for k, v in env.items() if not k.startswith(("PLEXICHAT_", "OTEL_"))},
            "PLEXICHAT_PERFORMANCE__API__RATE_LIMITING__ENABLED": "false",
            "PLEXICHAT_SERVICE__DATA_DIR": str(self.home / "data"),
            "PLEXICHAT_PERFORMANCE__PERFORMANCE_LOG_FILE": str(self.home / "performance.log"),
        }
        if db_url is not None:
            env["PLEXICHAT_SERVICE__DATABASE_URL"] = db_url
        if metrics_listener:
            metrics_port = _free_port()
            env["PLEXICHAT_PERFORMANCE__METRICS__EXPORTERS__PROMETHEUS__PORT"] = str(metrics_port)
            self.metrics_url = f"http://127.0.0.1:{metrics_port}/metrics"
        cmd = [sys.executable, "-m", "plexichat.cli", "serve", "--port", str(self.port)]
        self.proc = load.start(
            [*cmd, "--log-level", "warning"], args.server_core, str(self.home / "serve.log"), env
        )
        load.wait_ready(f"{self.url}/readyz", self.proc, timeout=60)

    @property
    def database(self) -> Path:
        return self.home / "data" / "plexichat.db"

    def stop(self) -> None:
        load.stop(self.proc)


def _loadgen(url: str, args: argparse.Namespace, rps: float, seconds: float, *extra: str) -> Any:
    """Run ``plexichat-obs loadgen`` (the working tree's) pinned to the load core; its summary."""
    cmd = ["taskset", "-c", str(args.load_core), sys.executable, "-m", "plexichat.cli", "loadgen"]
    cmd += ["--url", url, "--duration", str(seconds), "--rps", str(rps), "--json", *extra]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHONPATH"] = str(ROOT / "instrumentation")
    done = subprocess.run(
        cmd, capture_output=True, text=True, timeout=seconds + 120, check=True, env=env
    )
    return json.loads(done.stdout)


def _cpu(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        with contextlib.suppress(OSError):  # a backend that exited meanwhile
            total += load.cpu_seconds(pid)
    return total


def step(
    served: Served, args: argparse.Namespace, rps: float, db: PostgresServer | None
) -> dict[str, Any]:
    """One measured step at ``rps``."""
    before = _lookups(served.url)
    pg0 = _cpu(db.pids()) if db else 0.0
    cpu0 = load.cpu_seconds(served.proc.pid)
    core0 = load.core_busy_seconds(args.server_core)
    wall0 = time.monotonic()
    summary = _loadgen(served.url, args, rps, args.duration)
    wall = time.monotonic() - wall0
    cpu = load.cpu_seconds(served.proc.pid) - cpu0
    foreign = max(0.0, load.core_busy_seconds(args.server_core) - core0 - cpu)
    pg = _cpu(db.pids()) - pg0 if db else None
    after = _lookups(served.url)
    hits, misses = after["hit"] - before["hit"], after["miss"] - before["miss"]
    errors = summary["status_classes"].get("5xx", 0) + summary["connection_errors"]
    errors += summary["timeouts"] + summary["unfinished"]
    p99 = summary["latency_ms"]["p99"]
    ok = (
        p99 <= P99_LIMIT_MS
        and summary["achieved_rps"] >= 0.99 * rps
        and summary["dropped"] == 0
        and errors == 0
    )
    return {
        "rate": rps,
        "achieved": summary["achieved_rps"],
        "p50_ms": summary["latency_ms"]["p50"],
        "p99_ms": p99,
        "dropped": summary["dropped"],
        "errors": errors,
        "server_cpu": cpu / wall,
        "requests_per_cpu_s": summary["responses"] / cpu if cpu > 0 else 0.0,
        "generator_cpu": summary["generator_cpu"],
        "generator_send_lag_p99_ms": summary["send_lag_ms"]["p99"],
        "generator_limited": summary["generator_cpu"] >= 0.9 or summary["send_lag_ms"]["p99"] > 5.0,
        "postgres_cpu": None if pg is None else pg / wall,
        "other_load_on_server_core": foreign / wall,
        "hit_ratio": hits / (hits + misses) if hits + misses else None,
        "load_avg": os.getloadavg()[0],
        "ok": ok,
    }


def knee(args: argparse.Namespace, source: str, backend: str) -> list[dict[str, Any]]:
    env, measured = snapshot(source)
    db: PostgresServer | None = None
    served: Served | None = None
    steps: list[dict[str, Any]] = []
    try:
        if backend == "postgresql":
            bin_dir = postgres_bin_dir()
            if bin_dir is None:
                raise SystemExit("PostgreSQL is not installed (scripts/system-packages)")
            db = PostgresServer(bin_dir, durable=True)
            db.start(taskset=args.load_core)
        served = Served(args, env, db.url if db else None)
        _loadgen(served.url, args, args.rates[0], args.warmup)  # warm-up, discarded
        for rps in args.rates:
            result = step(served, args, rps, db)
            result.update(source=measured, backend=backend)
            steps.append(result)
            print(capacity_report.step_line(result), flush=True)
            if not result["ok"]:
                break
    finally:
        if served is not None:
            served.stop()
        if db is not None:
            db.stop()
    return steps


def _fill(database: Path, posts: int) -> None:
    """Grow the SQLite tables to ``posts`` posts, one comment each (directly, in one
    transaction; the service keeps running -- WAL lets it)."""
    with sqlite3.connect(database, timeout=30) as conn:
        have = conn.execute("SELECT count(*) FROM posts").fetchone()[0]
        columns = {row[1] for row in conn.execute("PRAGMA table_info(posts)")}
        now = datetime.now(UTC).replace(tzinfo=None).isoformat(sep=" ")
        first = conn.execute("SELECT coalesce(max(id), 0) FROM posts").fetchone()[0] + 1
        rows = range(first, first + max(0, posts - have))
        if "comment_count" in columns:
            conn.executemany(
                "INSERT INTO posts (id, user_id, title, body, created_at, comment_count)"
                " VALUES (?, ?, 'filler', 'filler', ?, 1)",
                ((i, 1 + i % 5, now) for i in rows),
            )
        else:
            conn.executemany(
                "INSERT INTO posts (id, user_id, title, body, created_at)"
                " VALUES (?, ?, 'filler', 'filler', ?)",
                ((i, 1 + i % 5, now) for i in rows),
            )
        conn.executemany(
            "INSERT INTO comments (post_id, user_id, body, created_at) VALUES (?, 1, 'c', ?)",
            ((i, now) for i in rows),
        )


def write_cost(args: argparse.Namespace, source: str) -> list[dict[str, Any]]:
    env, measured = snapshot(source)
    served = Served(args, env, None)
    results: list[dict[str, Any]] = []
    try:
        for size in WRITE_COST_SIZES:
            _fill(served.database, size)
            for operation in ("create_post", "create_comment"):
                _loadgen(served.url, args, args.write_rate, 2, "--only", operation)  # warm
                cpu0 = load.cpu_seconds(served.proc.pid)
                summary = _loadgen(
                    served.url, args, args.write_rate, args.duration, "--only", operation
                )
                cpu = load.cpu_seconds(served.proc.pid) - cpu0
                result = {
                    "source": measured,
                    "posts": size,
                    "operation": operation,
                    "rate": args.write_rate,
                    "responses": summary["responses"],
                    "cpu_ms_per_request": 1000 * cpu / max(1, summary["responses"]),
                    "p99_ms": summary["latency_ms"]["p99"],
                    "load_avg": os.getloadavg()[0],
                }
                results.append(result)
                print(capacity_report.write_cost_line(result), flush=True)
    finally:
        served.stop()
    return results


def generator_ceiling(args: argparse.Namespace) -> list[dict[str, Any]]:
    """loadgen against ``benchmarks.stub`` (pinned to the server core): its CPU and send lag
    as the rate rises -- where the generator itself runs out."""
    port = _free_port()
    home = Path(tempfile.mkdtemp(prefix="plexichat-stub-"))
    proc = load.start(
        [sys.executable, "-m", "benchmarks.stub", str(port)], args.server_core,
        str(home / "stub.log"),
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    results: list[dict[str, Any]] = []
    try:
        load.wait_ready(url, proc)
        for rps in args.generator_rates:
            s = _loadgen(url, args, rps, args.duration)
            result = {
                "rate": rps,
                "achieved": s["achieved_rps"],
                "p99_ms": s["latency_ms"]["p99"],
                "generator_cpu": s["generator_cpu"],
                "send_lag_p99_ms": s["send_lag_ms"]["p99"],
                "dropped": s["dropped"],
                "limited": s["generator_cpu"] >= 0.9 or s["send_lag_ms"]["p99"] > 5.0,
            }
            results.append(result)
            print(capacity_report.generator_line(result), flush=True)
    finally:
        load.stop(proc)
    return results


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="scripts/bench capacity", description=__doc__.split("\n")[0])
    p.add_argument("--backends", default="sqlite,postgresql", help="sqlite,postgresql")
    p.add_argument(
        "--sources", default="head", help="comma-separated: head, worktree or a git revision"
    )
    p.add_argument("--rates", default=DEFAULT_RATES, help="arrival rates to step through")
    p.add_argument("--duration", type=float, default=15.0, help="measured seconds per step")
    p.add_argument("--warmup", type=float, default=5.0, help="discarded seconds first")
    p.add_argument("--write-cost", action="store_true", help="also the write cost curve (SQLite)")
    p.add_argument("--write-rate", type=float, default=100.0, help="writes per second (curve)")
    p.add_argument("--generator", action="store_true",
                   help="also loadgen's own ceiling, against a trivial server")  # fmt: skip
    p.add_argument("--generator-rates", default="1000,2000,3000,4000")
    p.add_argument("--no-knee", dest="knee", action="store_false", help="skip the knee")
    p.add_argument("--from-json", default=None, metavar="FILE[,FILE]",
                   help="measure nothing: tables and plot from earlier --json files")  # fmt: skip
    p.add_argument("--server-core", type=int, default=0)
    p.add_argument("--load-core", type=int, default=1)
    p.add_argument("--json", type=Path, default=None, help="write every step here")
    p.add_argument("--plot", type=Path, default=None, help="PNG of latency against rate")
    args = p.parse_args(argv)
    args.backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    unknown = set(args.backends) - {"sqlite", "postgresql"}
    if unknown:
        p.error(f"unknown backends {sorted(unknown)}")
    args.sources = [s.strip() for s in args.sources.split(",") if s.strip()]
    args.rates = [float(r) for r in args.rates.split(",")]
    args.generator_rates = [float(r) for r in args.generator_rates.split(",")]
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    os.sched_setaffinity(0, {args.load_core})
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    command = "scripts/bench capacity " + shlex.join(sys.argv[1:] if argv is None else argv)
    print(f"# {command}\n{capacity_report.machine_line()}\n", flush=True)
    steps: list[dict[str, Any]] = []
    costs: list[dict[str, Any]] = []
    ceiling: list[dict[str, Any]] = []
    if args.from_json:
        for name in args.from_json.split(","):
            earlier = json.loads(Path(name).read_text())
            steps += earlier["steps"]
            costs += earlier["write_cost"]
            ceiling += earlier.get("generator", [])
        args.sources = []
    elif args.generator:
        ceiling = generator_ceiling(args)
    for source in args.sources:
        for backend in args.backends if args.knee else []:
            steps += knee(args, source, backend)
        if args.write_cost:
            costs += write_cost(args, source)
    print()
    if ceiling:
        print(capacity_report.generator_table(ceiling))
        print()
    print(capacity_report.knee_table(steps))
    if costs:
        print()
        print(capacity_report.write_cost_table(costs))
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(
            json.dumps(
                {"command": command, "steps": steps, "write_cost": costs, "generator": ceiling},
                indent=2,
            )
        )
    if args.plot is not None:
        capacity_report.plot(steps, costs, args.plot)
        print(f"\nplot: {args.plot}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
