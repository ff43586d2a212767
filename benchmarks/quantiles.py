"""``scripts/bench quantiles``: how far the latency quantiles Prometheus computes are from the
true ones.

The test-only service of ``benchmarks.quantile_app`` (instrumented by ``instrument_app``, the
catalog's buckets) runs pinned to ``--server-core``; two real Prometheus servers (classic, and
with native histograms on; see ``benchmarks.estimators``) scrape it every second from the load
core. For each distribution of ``benchmarks.distributions`` a closed-loop client on the load
core sends its requests, each asking for a duration drawn from the distribution. Then, per
distribution: the durations the histogram recorded (``GET /truth``), checked against the
histogram's ``_count`` and ``_sum`` in both Prometheus servers; their true p50/p95/p99
(``benchmarks.quantile_truth``); every estimator's value and its relative error.

Output: the error table (Markdown, a column pair per estimator; "n/a" where an estimator has
nothing), the run table (requests, seconds, rate, server and client CPU), ``--json``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shlex
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import yaml

from benchmarks import closed_loop, load
from benchmarks.capacity_report import machine_line
from benchmarks.distributions import BY_NAME, DISTRIBUTIONS, Distribution
from benchmarks.estimators import CLASSIC, DURATION, ESTIMATORS, NATIVE, scalar
from benchmarks.quantile_truth import relative_error, true_quantile
from benchmarks.runner import free_port

QUANTILES = (0.5, 0.95, 0.99)
JOB = "quantiles"
SCRAPE_INTERVAL = "1s"


def wait_for(check: Callable[[], bool], timeout_s: float, what: str) -> None:
    """Poll ``check`` until it holds; ``TimeoutError`` naming ``what`` after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not after {timeout_s} s")
        time.sleep(0.2)


class Prometheus:
    """A Prometheus server scraping the service, pinned to a core; ``native`` turns native
    histograms on."""

    def __init__(self, home: Path, target: str, core: int, native: bool) -> None:
        home.mkdir(parents=True)
        config = {
            "global": {"scrape_interval": SCRAPE_INTERVAL},
            "scrape_configs": [{"job_name": JOB, "static_configs": [{"targets": [target]}]}],
        }
        (home / "prometheus.yml").write_text(yaml.safe_dump(config), encoding="utf-8")
        port = free_port()
        self.api = f"http://127.0.0.1:{port}"
        cmd = [
            "prometheus",
            f"--config.file={home / 'prometheus.yml'}",
            f"--storage.tsdb.path={home / 'tsdb'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ]
        if native:
            cmd.append("--enable-feature=native-histograms")
        self.proc = load.start(cmd, core, str(home / "prometheus.log"))
        load.wait_ready(f"{self.api}/-/ready", self.proc)

    def stop(self) -> None:
        load.stop(self.proc)


def _recorded(url: str) -> dict[str, list[float]]:
    with urllib.request.urlopen(f"{url}/truth", timeout=60) as resp:
        data: dict[str, list[float]] = json.load(resp)
    return data


def check_truth(servers: dict[str, str], selector: str, values: Sequence[float]) -> None:
    """Wait until both servers hold every recorded request, then require that their ``_sum``
    is the recorded values' sum: the truth is what the histogram recorded."""
    # A native histogram where the server stores one (2.42 then keeps no classic series).
    count = f"sum(histogram_count({DURATION}{{{selector}}})) or sum({DURATION}_count{{{selector}}})"
    total = f"sum(histogram_sum({DURATION}{{{selector}}})) or sum({DURATION}_sum{{{selector}}})"
    for name, api in servers.items():

        def stored_all(api: str = api) -> bool:
            return scalar(api, count) == len(values)

        wait_for(stored_all, 120, f"{name} Prometheus storing {len(values)} requests of {selector}")
        stored = scalar(api, total)
        if stored is None or not math.isclose(stored, math.fsum(values), rel_tol=1e-9):
            raise RuntimeError(
                f"{selector}: the histogram's _sum in {name} Prometheus is {stored}, the recorded "
                f"durations sum to {math.fsum(values)}: the truth is not what it recorded"
            )


def measure(
    distribution: Distribution, servers: dict[str, str], values: Sequence[float]
) -> list[dict[str, Any]]:
    """One row per quantile: the truth and every estimator's value and relative error."""
    selector = f'job="{JOB}", http_route="{distribution.route}"'
    check_truth(servers, selector, values)
    rows = []
    for q in QUANTILES:
        truth = true_quantile(values, q)
        row: dict[str, Any] = {"distribution": distribution.name, "n": len(values), "q": q}
        row["true_s"] = truth
        for name, estimator in ESTIMATORS.items():
            estimate = estimator(servers, selector, q)
            row[name] = {
                "estimate_s": estimate,
                "error": None if estimate is None else relative_error(estimate, truth),
            }
        rows.append(row)
    return rows


def drive(
    distribution: Distribution, url: str, port: int, server_pid: int, seed: int, scale: float
) -> dict[str, Any]:
    """Send the distribution's requests; what it took."""
    durations = distribution.durations(seed, scale)
    paths = [f"/q/{distribution.name}/{round(s * 1e6)}" for s in durations]
    cpu0 = load.cpu_seconds(server_pid)
    sent = closed_loop.run("127.0.0.1", port, paths, distribution.connections)
    server_cpu = (load.cpu_seconds(server_pid) - cpu0) / sent.seconds
    if sent.failed:
        raise RuntimeError(f"{distribution.name}: {sent.failed} of {sent.requests} requests failed")
    return {
        "distribution": distribution.name,
        "requests": sent.requests,
        "connections": distribution.connections,
        "seconds": sent.seconds,
        "rate": sent.requests / sent.seconds,
        "server_cpu": server_cpu,
        "client_cpu": sent.client_cpu,
    }


def run(args: argparse.Namespace) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Start the service and both Prometheus servers, drive every distribution, measure."""
    home = Path(tempfile.mkdtemp(prefix="plexichat-quantiles-"))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    cmd = [sys.executable, "-m", "benchmarks.quantile_app", str(port)]
    service = load.start(cmd, args.server_core, str(home / "service.log"))
    prometheus: list[Prometheus] = []
    try:
        load.wait_ready(f"{url}/truth", service, timeout=60)
        for name in (CLASSIC, NATIVE):
            target = f"127.0.0.1:{port}"
            prometheus.append(Prometheus(home / name, target, args.load_core, name == NATIVE))
        servers = {CLASSIC: prometheus[0].api, NATIVE: prometheus[1].api}
        runs = []
        for distribution in args.distributions:
            runs.append(drive(distribution, url, port, service.pid, args.seed, args.scale))
            print(run_line(runs[-1]), flush=True)
        recorded = _recorded(url)
        rows = []
        for distribution in args.distributions:
            rows += measure(distribution, servers, recorded.get(distribution.route, []))
        return rows, runs
    finally:
        for server in prometheus:
            server.stop()
        load.stop(service)


def _ms(seconds: float | None) -> str:
    if seconds is None:
        return "n/a"
    ms = seconds * 1000
    return f"{ms:.4g}" if ms < 1000 else f"{ms:.0f}"


def _error(error: float | None) -> str:
    return "n/a" if error is None else f"{error:+.1%}"


def error_table(rows: Sequence[dict[str, Any]]) -> str:
    """Markdown: per distribution and quantile, the truth, then each estimator's value and
    relative error."""
    head = ["distribution", "n", "quantile", "true ms"]
    for name in ESTIMATORS:
        head += [f"{name} ms", f"{name} error"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in rows:
        cells = [row["distribution"], str(row["n"]), f"p{row['q'] * 100:g}", _ms(row["true_s"])]
        for name in ESTIMATORS:
            cells += [_ms(row[name]["estimate_s"]), _error(row[name]["error"])]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def run_line(r: dict[str, Any]) -> str:
    return (
        f"{r['distribution']}: {r['requests']} requests over {r['connections']} connections in "
        f"{r['seconds']:.1f} s ({r['rate']:.0f}/s), server CPU {r['server_cpu']:.0%}, "
        f"client CPU {r['client_cpu']:.0%}"
    )


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="scripts/bench quantiles", description=__doc__.split("\n")[0])
    p.add_argument(
        "--distributions",
        default=",".join(d.name for d in DISTRIBUTIONS),
        help="comma-separated, of: " + ", ".join(BY_NAME),
    )
    p.add_argument("--scale", type=float, default=1.0, help="multiplies every sample count")
    p.add_argument("--seed", type=int, default=19, help="seeds the drawn durations")
    p.add_argument("--server-core", type=int, default=0)
    p.add_argument("--load-core", type=int, default=1)
    p.add_argument("--json", type=Path, default=None, help="write rows and runs here")
    args = p.parse_args(argv)
    names = [n.strip() for n in args.distributions.split(",") if n.strip()]
    unknown = [n for n in names if n not in BY_NAME]
    if unknown or not names:
        p.error(f"--distributions: unknown {unknown}; expected some of {', '.join(BY_NAME)}")
    args.distributions = [BY_NAME[n] for n in names]
    if args.scale <= 0:
        p.error("--scale must be positive")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    os.sched_setaffinity(0, {args.load_core})
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    command = "scripts/bench quantiles " + shlex.join(sys.argv[1:] if argv is None else argv)
    print(f"# {command}\n{machine_line()}\n", flush=True)
    prometheus = subprocess.run(["prometheus", "--version"], capture_output=True, text=True)
    print(f"# {prometheus.stdout.splitlines()[0] if prometheus.stdout else 'prometheus ?'}\n")
    rows, runs = run(args)
    print()
    print(error_table(rows))
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"command": command, "rows": rows, "runs": runs}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
