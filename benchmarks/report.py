"""Summaries of the rounds: medians with min-max spread, paired ratios, verdicts, machine."""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
from collections.abc import Callable, Sequence
from importlib import metadata
from typing import Any

from benchmarks.apps import (
    BASELINE,
    INSTRUMENTATOR,
    OTEL_METRICS,
    PLEXICHAT,
    TRACED_10,
    TRACED_10_NO_EXEMPLARS,
    TRACED_100,
    TRACED_100_NO_EXEMPLARS,
    WORKERS,
)

Round = dict[str, Any]  # one measurement: variant, round, requests, cpu_s, rps, p50, p99, ...
PACKAGES = (
    "fastapi", "starlette", "uvicorn", "uvloop", "httptools", "opentelemetry-sdk",
    "opentelemetry-instrumentation-fastapi", "prometheus-fastapi-instrumentator",
    "starlette-exporter", "prometheus-client", "plexichat-observability",
)  # fmt: skip

# (name, what, numerator variant, denominator variant, metric, target, higher is better)
VERDICTS = (
    ("P1", "metrics only, CPU-normalised vs baseline", PLEXICHAT, BASELINE, "norm", 0.95, True),
    ("P2a", "traced 10 %, CPU-normalised vs baseline", TRACED_10, BASELINE, "norm", 0.90, True),
    ("P2b", "traced 100 %, CPU-normalised vs baseline", TRACED_100, BASELINE, "norm", 0.80, True),
    ("P6", "p99 traced 10 % / p99 untraced", TRACED_10, PLEXICHAT, "p99", 1.5, False),
    ("P6'", "p99 traced 100 % / p99 untraced (info)", TRACED_100, PLEXICHAT, "p99", None, False),
)
# (name, what, variant, reference, target): CPU µs per request of variant minus reference,
# paired per round; lower is better.
COSTS = (
    ("MW", "multi-worker mode, CPU µs/request over one process", WORKERS, PLEXICHAT, 0.5),
    ("EX10", "exemplars at 10 % sampling, CPU µs/request", TRACED_10, TRACED_10_NO_EXEMPLARS, None),
    (
        "EX100",
        "exemplars at 100 % sampling, CPU µs/request",
        TRACED_100,
        TRACED_100_NO_EXEMPLARS,
        None,
    ),
)


def machine(measured: str) -> dict[str, Any]:
    """The machine, tool and package versions; ``measured`` names the code under test."""
    model = "unknown"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    versions: dict[str, str] = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "-"
    wrk = subprocess.run(["wrk", "--version"], capture_output=True, text=True, timeout=10)
    return {
        "nproc": os.cpu_count(),
        "cpu": model,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "wrk": (wrk.stdout or wrk.stderr).splitlines()[0] if (wrk.stdout or wrk.stderr) else "?",
        "commit": measured,
        "packages": versions,
    }


def _paired(
    rounds: Sequence[Round], a: str, b: str, value: Callable[[Round], float]
) -> list[float]:
    """value(a) / value(b) for every round where both ran (paired, same round)."""
    by_round: dict[int, dict[str, Round]] = {}
    for r in rounds:
        by_round.setdefault(r["round"], {})[r["variant"]] = r
    return [
        value(pair[a]) / value(pair[b])
        for _, pair in sorted(by_round.items())
        if a in pair and b in pair and value(pair[b]) > 0
    ]


def _paired_difference(
    rounds: Sequence[Round], a: str, b: str, value: Callable[[Round], float]
) -> list[float]:
    """value(a) - value(b) for every round where both ran."""
    by_round: dict[int, dict[str, Round]] = {}
    for r in rounds:
        by_round.setdefault(r["round"], {})[r["variant"]] = r
    return [value(p[a]) - value(p[b]) for _, p in sorted(by_round.items()) if a in p and b in p]


def _norm(r: Round) -> float:
    return float(r["requests"] / r["cpu_s"]) if r["cpu_s"] > 0 else 0.0


METRICS: dict[str, Callable[[Round], float]] = {
    "cpu_us": lambda r: 1e6 * r["cpu_s"] / r["requests"],
    "norm": _norm,
    "rps": lambda r: float(r["rps"]),
    "p50": lambda r: 1e3 * r["p50"],
    "p99": lambda r: 1e3 * r["p99"],
    "cpu_util": lambda r: r["cpu_s"] / r["seconds"],
    "foreign": lambda r: r.get("foreign_s", 0.0) / r["seconds"],
    "spans_per_req": lambda r: r["spans"] / r["served"] if r.get("spans") is not None else -1.0,
}


def spread(values: Sequence[float]) -> dict[str, float] | None:
    if not values:
        return None
    return {
        "median": statistics.median(values),
        "min": min(values),
        "max": max(values),
        "n": len(values),
    }


def summarise(rounds: Sequence[Round], variants: Sequence[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for v in variants:
        mine = [r for r in rounds if r["variant"] == v]
        entry: dict[str, Any] = {k: spread([f(r) for r in mine]) for k, f in METRICS.items()}
        entry["errors"] = sum(r["errors"] for r in mine)
        for peer in (BASELINE, INSTRUMENTATOR, OTEL_METRICS):
            entry[f"norm_vs_{peer}"] = spread(_paired(rounds, v, peer, _norm))
        entry[f"rps_vs_{BASELINE}"] = spread(_paired(rounds, v, BASELINE, METRICS["rps"]))
        out[v] = entry
    return out


def verdicts(rounds: Sequence[Round]) -> list[dict[str, Any]]:
    out = []
    for name, what, a, b, metric, target, higher in VERDICTS:
        s = spread(_paired(rounds, a, b, METRICS[metric]))
        status = "n/a (not run)"
        if s is not None and target is not None:
            ok = s["median"] >= target if higher else s["median"] <= target
            status = "PASS" if ok else "MISS"
        elif s is not None:
            status = "info"
        out.append({"name": name, "what": what, "target": target, "higher_is_better": higher,
                    "ratio": s, "status": status})  # fmt: skip
    for name, what, a, b, budget in COSTS:
        s = spread(_paired_difference(rounds, a, b, METRICS["cpu_us"]))
        status = "n/a (not run)" if s is None else "info"
        if s is not None and budget is not None:
            status = "PASS" if s["median"] <= budget else "MISS"
        out.append({"name": name, "what": what, "target": budget, "higher_is_better": False,
                    "ratio": s, "status": status})  # fmt: skip
    return out


def _fmt(s: dict[str, float] | None, digits: int = 2) -> str:
    if s is None:
        return "-"
    return f"{s['median']:.{digits}f} [{s['min']:.{digits}f}, {s['max']:.{digits}f}]"


COLUMNS = (
    ("variant", None, 0),
    ("CPU µs/req", "cpu_us", 0),
    ("CPU-norm x base", f"norm_vs_{BASELINE}", 2),
    ("req/s", "rps", 0),
    ("req/s x base", f"rps_vs_{BASELINE}", 2),
    ("p50 ms", "p50", 2),
    ("p99 ms", "p99", 2),
    ("CPU-norm x instrumentator", f"norm_vs_{INSTRUMENTATOR}", 2),
    ("CPU-norm x otel-metrics", f"norm_vs_{OTEL_METRICS}", 2),
    ("server CPU util", "cpu_util", 2),
    ("other load on server core", "foreign", 2),
    ("spans/req", "spans_per_req", 2),
)


def table(summary: dict[str, Any]) -> str:
    """A Markdown table: median (min-max) of every column."""
    lines = ["| " + " | ".join(c[0] for c in COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    for variant, entry in summary.items():
        cells = [variant]
        for _, key, digits in COLUMNS[1:]:
            s = entry[key]
            cells.append("-" if s is None or s["median"] < 0 else _fmt(s, digits))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def verdict_lines(items: Sequence[dict[str, Any]]) -> str:
    lines = []
    for v in items:
        target = v["target"]
        goal = (
            "" if target is None else f" (target {'≥' if v['higher_is_better'] else '≤'} {target})"
        )
        lines.append(f"- **{v['name']}** {v['what']}: {_fmt(v['ratio'])}{goal} → **{v['status']}**")
    return "\n".join(lines)


def machine_lines(m: dict[str, Any]) -> str:
    pkgs = ", ".join(f"{k} {v}" for k, v in m["packages"].items())
    return (
        f"- CPU: {m['cpu']}, nproc {m['nproc']}, kernel {m['kernel']}\n"
        f"- Python {m['python']}; {m['wrk']}\n- commit measured: {m['commit']}\n- {pkgs}"
    )
