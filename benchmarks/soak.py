"""``scripts/bench soak``: the service under steady load for a long time -- does anything grow?

The service runs (pinned to ``--server-core``, rate limiter off, SQLite) while ``loadgen`` (its
own process, ``--load-core``) sends loadgen's mix at ``--rate`` (default: 70 % of the knee
measured in ``docs/benchmarks.md``) from a fixed population (its set-up users, ``--no-register``)
plus 5 % random unknown paths, in one run. Every ``--segment`` seconds: the server's RSS, the
number of series on ``/metrics``, the L1 cache's bytes; at the end, the run's errors. The samples
are scraped from the service's second metrics listener (``metrics.exporters.prometheus.port``, a
thread of its own), not its API port: a scrape there would wait in line behind the load's
requests whenever the server falls behind, and a late sample would stretch the segments.

Warm-up ends at the first segment under load after which the cache stopped growing (its bytes
within 1 % of the previous sample; the sample after the load ended never counts, as nothing grows
then). The caches fill with the requests served, not with time: at 840 req/s they settle in about
90 s, at 200 req/s not within 2 minutes, so a run too short to see that names its warm-up
(``warm_up_s``) instead. After it, the soak holds when: RSS grew < 5 %, the series count did
not grow, there were no errors (5xx, connection errors, timeouts, drops), and the cache stayed
within ``memory_cache.max_size``. ``tests/e2e/test_soak.py`` runs the same check for 2 minutes at
200 req/s; memory and series bounds only, no timings.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from plexichat.config.sizes import KiB, MiB

KNEE_RPS = 1200.0
"""The knee on SQLite, docs/benchmarks.md (scripts/bench capacity); the soak runs at 70 %."""
RSS_GROWTH_LIMIT = 0.05
CACHE_SETTLED = 0.01
RANDOM_PATHS_PERCENT = 5.0
_CACHE_BYTES = re.compile(r"^plexichat_cache_memory_usage_bytes(?:\{[^}]*\})? (\S+)", re.M)


@dataclass(frozen=True)
class Sample:
    seconds: float
    rss_bytes: int
    series: int
    cache_bytes: float
    errors: int


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * KiB  # VmRSS is in kB, which /proc means as KiB
    raise RuntimeError(f"no VmRSS for {pid}")


def scrape(metrics_url: str) -> tuple[int, float]:
    """(series on the Prometheus endpoint at ``metrics_url``, L1 cache bytes)."""
    with urllib.request.urlopen(metrics_url, timeout=30) as resp:
        text = resp.read().decode()
    series = sum(1 for line in text.splitlines() if line and not line.startswith("#"))
    cache = sum(float(v) for v in _CACHE_BYTES.findall(text))
    return series, cache


def soak(
    url: str,
    metrics_url: str,
    pid: int,
    rps: float,
    total_s: float,
    segment_s: float,
    load_core: int | None = None,
    report: Any = None,
) -> tuple[list[Sample], dict[str, Any]]:
    """One loadgen run of ``total_s`` against ``url`` (one population: its set-up users, no
    registrations; random paths), a sample of ``pid`` and ``metrics_url`` before it and every
    ``segment_s`` while it runs; (samples, the loadgen summary). A sample's ``errors`` is 0 until
    the end, then the run's errors."""
    cmd = [sys.executable, "-m", "plexichat.cli", "loadgen", "--url", url, "--json"]
    cmd += ["--duration", str(total_s), "--rps", str(rps), "--no-register"]
    cmd += ["--random-paths", str(RANDOM_PATHS_PERCENT)]
    if load_core is not None:
        cmd = ["taskset", "-c", str(load_core), *cmd]
    series, cache = scrape(metrics_url)
    samples = [Sample(0.0, rss_bytes(pid), series, cache, 0)]
    started = time.monotonic()
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True) as lg:
        while lg.poll() is None:
            time.sleep(min(segment_s, 1.0))
            now = time.monotonic() - started
            if now - samples[-1].seconds >= segment_s and lg.poll() is None:
                series, cache = scrape(metrics_url)
                samples.append(Sample(now, rss_bytes(pid), series, cache, 0))
                if report is not None:
                    report(samples[-1])
        out = lg.stdout.read() if lg.stdout is not None else ""
    if lg.returncode != 0:
        raise RuntimeError(f"loadgen exited {lg.returncode}")
    summary: dict[str, Any] = json.loads(out)
    errors = summary["status_classes"].get("5xx", 0) + summary["connection_errors"]
    errors += summary["timeouts"] + summary["unfinished"] + summary["dropped"]
    series, cache = scrape(metrics_url)
    samples.append(Sample(time.monotonic() - started, rss_bytes(pid), series, cache, errors))
    return samples, summary


def verdict(
    samples: list[Sample], max_cache_bytes: float, warm_up_s: float | None = None
) -> dict[str, Any]:
    """Where warm-up ended and whether the soak held (see the module docstring). ``warm_up_s``:
    warm-up ends at the first sample this late; ``None``: when the cache stopped growing."""
    loaded = range(2, len(samples) - 1)  # the last sample is taken after the load ended
    if warm_up_s is None:
        settled = (
            i
            for i in loaded
            if samples[i].cache_bytes <= samples[i - 1].cache_bytes * (1 + CACHE_SETTLED)
        )
    else:
        settled = (i for i in loaded if samples[i].seconds >= warm_up_s)
    warm = next(settled, None)
    if warm is None:
        why = (
            "the caches never stopped growing"
            if warm_up_s is None
            else f"no sample under load after the {warm_up_s:g} s warm-up"
        )
        return {"ok": False, "why": why, "warm_up_sample": None}
    base, last = samples[warm], samples[-1]
    rss_growth = (last.rss_bytes - base.rss_bytes) / base.rss_bytes
    series_growth = max(s.series for s in samples[warm:]) - base.series
    cache_peak = max(s.cache_bytes for s in samples)
    errors = last.errors
    problems = []
    if rss_growth >= RSS_GROWTH_LIMIT:
        problems.append(f"RSS grew {rss_growth:.1%} after warm-up")
    if series_growth > 0:
        problems.append(f"/metrics gained {series_growth} series after warm-up")
    if errors:
        problems.append(f"{errors} errors")
    if cache_peak > max_cache_bytes:
        problems.append(f"cache reached {cache_peak:.0f} bytes > max_size {max_cache_bytes:.0f}")
    return {
        "ok": not problems,
        "why": "; ".join(problems) or "held",
        "warm_up_sample": warm,
        "warm_up_s": base.seconds,
        "rss_growth": rss_growth,
        "series_growth": series_growth,
        "cache_peak_bytes": cache_peak,
        "errors": errors,
    }


def _line(s: Sample) -> str:
    return (
        f"[{s.seconds:7.0f} s] RSS {s.rss_bytes / MiB:6.1f} MiB  series {s.series:5d}  "
        f"cache {s.cache_bytes / MiB:6.2f} MiB  errors {s.errors}"
    )


def _loadgen_line(summary: dict[str, Any]) -> str:
    """The run as loadgen saw it: where any errors came from, and whether it kept up."""
    from plexichat.loadgen.report import GENERATOR_CPU_LIMIT, SEND_LAG_LIMIT_S

    lat, lag = summary["latency_ms"], summary["send_lag_ms"]
    kinds = ", ".join(f"{k} {n}" for k, n in summary.get("connection_error_kinds", {}).items())
    late = summary["generator_cpu"] >= GENERATOR_CPU_LIMIT or lag["p99"] > SEND_LAG_LIMIT_S * 1000
    return (
        f"# loadgen: {summary['achieved_rps']:.1f} of {summary['target_rps']:.0f} req/s, "
        f"statuses {summary['status_classes']}, connection errors "
        f"{summary['connection_errors']}{f' ({kinds})' if kinds else ''}, timeouts "
        f"{summary['timeouts']}, unfinished "
        f"{summary['unfinished']}, dropped {summary['dropped']}; p50 {lat['p50']} ms, p99 "
        f"{lat['p99']} ms, max {lat['max']} ms; generator CPU {summary['generator_cpu']:.0%}, "
        f"send lag p99 {lag['p99']} ms"
        + (" -- THE LOAD GENERATOR WAS THE BOTTLENECK (late or out of CPU)" if late else "")
    )


def main(argv: list[str] | None = None) -> int:
    from benchmarks.capacity import Served
    from benchmarks.snapshot import snapshot
    from plexichat.config import load_settings

    p = argparse.ArgumentParser(prog="scripts/bench soak", description=__doc__.split("\n")[0])
    p.add_argument("--minutes", type=float, default=30.0)
    p.add_argument("--rate", type=float, default=0.7 * KNEE_RPS, help="req/s (70%% of the knee)")
    p.add_argument("--segment", type=float, default=30.0, help="seconds between samples")
    p.add_argument("--server-core", type=int, default=0)
    p.add_argument("--load-core", type=int, default=1)
    p.add_argument("--source", default="head", help="head, worktree or a git revision")
    p.add_argument("--json", type=Path, default=None)
    args = p.parse_args(argv)
    os.sched_setaffinity(0, {args.load_core})
    env, measured = snapshot(args.source)
    print(f"# scripts/bench soak {' '.join(sys.argv[1:] if argv is None else argv)}")
    print(f"# {measured}; {args.rate:.0f} req/s for {args.minutes:g} min; load {os.getloadavg()}")
    served = Served(argparse.Namespace(server_core=args.server_core), env, None, True)
    try:
        samples, summary = soak(served.url, served.metrics_url, served.proc.pid, args.rate,
                          args.minutes * 60, args.segment, args.load_core,
                          report=lambda s: print(_line(s), flush=True))  # fmt: skip
    finally:
        served.stop()
    max_size = float(load_settings(environ={}).performance.caching.memory_cache.max_size)
    result = verdict(samples, max_size)
    print(_loadgen_line(summary))
    print(f"# load at the end {os.getloadavg()}")
    print(json.dumps(result, indent=2))
    if args.json is not None:
        report = {"samples": [asdict(s) for s in samples], "verdict": result, "loadgen": summary}
        args.json.write_text(json.dumps(report, indent=2))
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
