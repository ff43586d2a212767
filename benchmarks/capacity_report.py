"""``scripts/bench capacity``'s output: a line per step, the tables, the machine, the plot."""

from __future__ import annotations

import os
import platform
from collections.abc import Sequence
from pathlib import Path
from typing import Any

Step = dict[str, Any]


def machine_line() -> str:
    model = "unknown"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return (
        f"# machine: {os.cpu_count()} cores, {model}, Linux {platform.release()}, "
        f"Python {platform.python_version()}; load average at start {load}"
    )


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"


def step_line(s: Step) -> str:
    verdict = "ok" if s["ok"] else "MISSED"
    gen = " GENERATOR-LIMITED" if s["generator_limited"] else ""
    return (
        f"{s['backend']:10} {s['rate']:6.0f}/s achieved {s['achieved']:7.1f}  "
        f"p50 {s['p50_ms']:7.1f} ms  p99 {s['p99_ms']:7.1f} ms  server CPU "
        f"{_pct(s['server_cpu'])}  gen CPU {_pct(s['generator_cpu'])}{gen}  "
        f"hit {_pct(s['hit_ratio'])}  dropped {s['dropped']}  errors {s['errors']}  {verdict}"
    )


def knee_table(steps: Sequence[Step]) -> str:
    head = (
        "| source | database | rate (req/s) | achieved | p50 ms | p99 ms | server CPU | "
        "req per server-CPU-s | generator CPU | PostgreSQL CPU | hit ratio | dropped | errors | |"
    )
    lines = [head, "|" + "---|" * 14]
    for s in steps:
        lines.append(
            f"| {s['source']} | {s['backend']} | {s['rate']:.0f} | {s['achieved']:.1f} | "
            f"{s['p50_ms']:.1f} | {s['p99_ms']:.1f} | {_pct(s['server_cpu'])} | "
            f"{s['requests_per_cpu_s']:.0f} | {_pct(s['generator_cpu'])}"
            f"{' (limited)' if s['generator_limited'] else ''} | {_pct(s['postgres_cpu'])} | "
            f"{_pct(s['hit_ratio'])} | {s['dropped']} | {s['errors']} | "
            f"{'ok' if s['ok'] else 'missed'} |"
        )
    return "\n".join(lines)


def generator_line(r: Step) -> str:
    verdict = "LIMITED" if r["limited"] else "not the bottleneck"
    return (
        f"generator {r['rate']:6.0f}/s achieved {r['achieved']:7.1f}  CPU "
        f"{_pct(r['generator_cpu'])}  send lag p99 {r['send_lag_p99_ms']:.1f} ms  "
        f"dropped {r['dropped']}  {verdict}"
    )


def generator_table(rows: Sequence[Step]) -> str:
    lines = ["| rate (req/s) | achieved | generator CPU | send lag p99 ms | dropped | verdict |"]
    lines.append("|---|---|---|---|---|---|")
    for r in rows:
        lines.append(
            f"| {r['rate']:.0f} | {r['achieved']:.1f} | {_pct(r['generator_cpu'])} | "
            f"{r['send_lag_p99_ms']:.1f} | {r['dropped']} | "
            f"{'limited' if r['limited'] else 'not the bottleneck'} |"
        )
    return "\n".join(lines)


def write_cost_line(r: Step) -> str:
    return (
        f"write cost {r['operation']:15} at {r['posts']:7d} posts: "
        f"{r['cpu_ms_per_request']:.2f} ms CPU per request (p99 {r['p99_ms']:.1f} ms)"
    )


def write_cost_table(costs: Sequence[Step]) -> str:
    lines = ["| source | posts in the table | operation | server CPU ms per request | p99 ms |"]
    lines.append("|---|---|---|---|---|")
    for r in costs:
        lines.append(
            f"| {r['source']} | {r['posts']:,} | {r['operation']} | "
            f"{r['cpu_ms_per_request']:.2f} | {r['p99_ms']:.1f} |"
        )
    return "\n".join(lines)


def plot(steps: Sequence[Step], costs: Sequence[Step], path: Path) -> None:
    """Latency (p50, p99; log scale) against arrival rate per source and database, with the
    100 ms line; beside it, the write cost against table size when measured."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = 2 if costs else 1
    fig, axes = plt.subplots(1, panels, figsize=(7 * panels, 4.8), squeeze=False)
    ax = axes[0][0]
    series: dict[tuple[str, str], list[Step]] = {}
    for s in steps:
        series.setdefault((s["source"], s["backend"]), []).append(s)
    for (source, backend), rows in series.items():
        rates = [r["rate"] for r in rows]
        label = f"{backend}, {source.split(' ')[0]}"
        (line,) = ax.plot(rates, [r["p99_ms"] for r in rows], marker="o", label=f"p99 {label}")
        ax.plot(
            rates, [r["p50_ms"] for r in rows], marker=".", linestyle="--",
            color=line.get_color(), label=f"p50 {label}",
        )  # fmt: skip
    ax.axhline(100, color="red", linewidth=1, label="p99 target 100 ms")
    ax.set_yscale("log")
    ax.set_xlabel("arrival rate, loadgen's mix (req/s, open loop)")
    ax.set_ylabel("latency from scheduled time (ms)")
    ax.set_title("PlexiChat service on one core")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7)
    if costs:
        ax2 = axes[0][1]
        groups: dict[tuple[str, str], list[Step]] = {}
        for r in costs:
            groups.setdefault((r["source"], r["operation"]), []).append(r)
        for (source, operation), rows in groups.items():
            ax2.plot(
                [r["posts"] for r in rows], [r["cpu_ms_per_request"] for r in rows],
                marker="o", label=f"{operation}, {source.split(' ')[0]}",
            )  # fmt: skip
        ax2.set_xscale("log")
        ax2.set_ylim(bottom=0)
        ax2.set_xlabel("posts in the table")
        ax2.set_ylabel("server CPU per request (ms)")
        ax2.set_title("Write cost against table size (SQLite)")
        ax2.grid(True, alpha=0.3)
        ax2.legend(fontsize=7)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
