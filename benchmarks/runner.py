"""``scripts/bench``: interleaved rounds of every variant under wrk, CPU-normalised.

Per round, in a seeded shuffled order, each variant is started in its own uvicorn process
pinned to the server core, warmed up, then loaded by wrk pinned to the load core for
``--duration`` seconds. The server's CPU time (utime + stime of all its threads, exporter
threads included, from ``/proc/PID/stat``) is read around the measured run:
CPU µs/request = cpu / requests, CPU-normalised throughput = requests / cpu.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shlex
import signal
import socket
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from benchmarks import load, report
from benchmarks.apps import NEEDS_SINK, VARIANTS
from benchmarks.snapshot import snapshot

PATH = "/api/items/42"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def sink_stats(base: str) -> dict[str, dict[str, int]]:
    with urllib.request.urlopen(f"{base}/stats", timeout=30) as resp:
        data: dict[str, dict[str, int]] = json.load(resp)
        return data


def measure(
    variant: str, args: argparse.Namespace, sink: str, log: str, env: dict[str, str]
) -> dict[str, Any]:
    port = free_port()
    url = f"http://127.0.0.1:{port}{PATH}"
    cmd = [sys.executable, "-m", "benchmarks.serve", variant, str(port)]
    cmd += ["--metrics-interval", str(args.metrics_interval)]
    if variant in NEEDS_SINK:
        cmd += ["--sink", sink]
    sink_stats(sink)  # forget whatever the previous variant left
    proc = load.start(cmd, args.server_core, log, env)
    try:
        load.wait_ready(url, proc)
        warm = load.run_wrk(url, args.warmup, args.connections, args.load_core)
        core0 = load.core_busy_seconds(args.server_core)
        cpu0 = load.cpu_seconds(proc.pid)
        wall0 = time.monotonic()
        result = load.run_wrk(url, args.duration, args.connections, args.load_core)
        cpu1 = load.cpu_seconds(proc.pid)
        wall = time.monotonic() - wall0
        core1 = load.core_busy_seconds(args.server_core)
    finally:
        load.stop(proc)  # SIGTERM: exporters flush what they hold
    received = sink_stats(sink)
    spans = received.get("/v1/traces", {}).get("spans") if variant in NEEDS_SINK else None
    return {
        "variant": variant,
        "requests": result.requests,
        "seconds": wall,
        "cpu_s": cpu1 - cpu0,
        # busy time of the server's core not spent in the server: other processes, softirq
        "foreign_s": max(0.0, (core1 - core0) - (cpu1 - cpu0)),
        "rps": result.rps,
        "p50": result.p50,
        "p99": result.p99,
        "errors": result.errors + warm.errors,
        "served": result.requests + warm.requests,
        "spans": spans,
        "exports": {path: e["exports"] for path, e in received.items()},
    }


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="scripts/bench", description=__doc__.split("\n")[0])
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--duration", type=int, default=10, help="measured seconds per variant")
    p.add_argument("--warmup", type=int, default=2, help="discarded seconds of load first")
    p.add_argument("--quick", action="store_true", help="--duration 3 --warmup 1")
    p.add_argument("--variants", default=",".join(VARIANTS), help=f"of {','.join(VARIANTS)}")
    p.add_argument("--connections", type=int, default=32)
    p.add_argument("--seed", type=int, default=1, help="seeds the per-round order")
    p.add_argument("--metrics-interval", type=int, default=5,
                   help="OTLP metric export interval (s) of the exporting variants")  # fmt: skip
    p.add_argument("--server-core", type=int, default=0)
    p.add_argument("--load-core", type=int, default=1)
    p.add_argument(
        "--source",
        choices=("head", "worktree"),
        default="head",
        help="measure the committed instrumentation (git archive HEAD) or the working tree's",
    )
    p.add_argument("--json", type=Path, default=None, help="write rounds and summary here")
    args = p.parse_args(argv)
    if args.quick:
        args.duration, args.warmup = 3, 1
    args.variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    unknown = set(args.variants) - set(VARIANTS)
    if unknown:
        p.error(f"unknown variants {sorted(unknown)}; known: {', '.join(VARIANTS)}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    os.sched_setaffinity(0, {args.load_core})  # keep this process off the server's core
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # run the finally blocks
    env, measured = snapshot(args.source)
    machine = report.machine(measured)
    command = "scripts/bench " + shlex.join(sys.argv[1:] if argv is None else argv)
    print(f"# {command}\n{report.machine_lines(machine)}\n", flush=True)
    logdir = tempfile.mkdtemp(prefix="plexichat-bench-")
    sink_port = free_port()
    sink = f"http://127.0.0.1:{sink_port}"
    sink_proc = load.start(
        [sys.executable, "-m", "benchmarks.sink", str(sink_port)], args.load_core,
        f"{logdir}/sink.log",
    )  # fmt: skip
    rng = random.Random(args.seed)
    rounds: list[dict[str, Any]] = []
    try:
        load.wait_ready(f"{sink}/stats", sink_proc)
        for n in range(args.rounds):
            order = list(args.variants)
            rng.shuffle(order)
            for variant in order:
                r = measure(variant, args, sink, f"{logdir}/{variant}.log", env)
                r["round"] = n
                rounds.append(r)
                errors = f" errors {r['errors']}" if r["errors"] else ""
                print(
                    f"round {n + 1}/{args.rounds} {variant:22} {r['rps']:9.0f} req/s "
                    f"{1e6 * r['cpu_s'] / r['requests']:6.1f} us CPU/req "
                    f"p99 {1e3 * r['p99']:6.2f} ms "
                    f"other load on server core {r['foreign_s'] / r['seconds']:4.2f}{errors}",
                    flush=True,
                )
    finally:
        load.stop(sink_proc)
    summary = report.summarise(rounds, args.variants)
    verdicts = report.verdicts(rounds)
    print(f"\nmedian (min-max) of {args.rounds} interleaved rounds, {args.duration} s each\n")
    print(report.table(summary))
    print()
    print(report.verdict_lines(verdicts))
    print(f"\nserver logs: {logdir}")
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        document = {
            "command": command,
            "machine": machine,
            "args": {k: str(v) for k, v in vars(args).items()},
            "rounds": rounds,
            "summary": summary,
            "verdicts": verdicts,
        }
        args.json.write_text(json.dumps(document, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
