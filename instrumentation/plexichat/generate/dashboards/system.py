"""*System*: CPU and memory of each instance against the targets and the memory limit; worker
processes, requests in flight, and metrics that hit their series budget."""

from __future__ import annotations

from typing import Any

from plexichat.generate.dashboards import panels
from plexichat.generate.options import Options

UID = "plexichat-system"


def build(options: Options) -> dict[str, Any]:
    cpu, memory = options.catalog["cpu_usage"], options.catalog["memory_usage"]
    cpu_t, mem_t = options.thresholds(cpu), options.thresholds(memory)
    cells = [
        panels.Cell(
            panels.gauge(
                "CPU usage",
                f"{cpu.description} (process.cpu.utilization, summed per instance). Target "
                f"{cpu_t.target.op} {cpu_t.target.value:.0%}; the alert fires above the red line.",
                cpu.query(selector=panels.SELECTOR),
                "percentunit",
                panels.steps(cpu, cpu_t),
            ),
            6,
            8,
        ),
        panels.Cell(
            panels.timeseries(
                "CPU usage per instance",
                "Share of the CPUs available to the process that it used; lines mark the target "
                "and the alert threshold.",
                [panels.target(cpu.query(selector=panels.SELECTOR), "{{instance}}")],
                "percentunit",
                panels.steps(cpu, cpu_t),
            ),
            18,
            8,
        ),
        panels.Cell(
            panels.gauge(
                "Memory usage",
                f"{memory.description}: resident memory over the memory limit (cgroup limit, "
                f"else resource_limits.max_memory_usage). Target {memory_text(mem_t)}.",
                memory.query(selector=panels.SELECTOR),
                "percentunit",
                panels.steps(memory, mem_t),
            ),
            6,
            8,
        ),
        panels.Cell(
            panels.timeseries(
                "Memory against limit",
                "Resident set size (process.memory.usage) and the limit it is measured against "
                "(plexichat.process.memory.limit), per instance.",
                panels.targets(
                    (f"process_memory_usage_bytes{{{panels.SELECTOR}}}", "used {{instance}}"),
                    (
                        f"plexichat_process_memory_limit_bytes{{{panels.SELECTOR}}}",
                        "limit {{instance}}",
                    ),
                ),
                "bytes",
            ),
            18,
            8,
        ),
        panels.Cell(
            panels.timeseries(
                "Requests in flight",
                "HTTP requests being served right now (http.server.active_requests), by method.",
                [
                    panels.target(
                        "sum by (http_request_method) "
                        f"(http_server_active_requests{{{panels.SELECTOR}}})",
                        "{{http_request_method}}",
                    )
                ],
            ),
            9,
            6,
        ),
        panels.Cell(
            panels.timeseries(
                "Workers per instance",
                "Worker processes alive in each instance (plexichat.process.workers; 1 for a "
                "single process). CPU and memory above are the sums over them.",
                [
                    panels.target(
                        f"plexichat_process_workers{{{panels.SELECTOR}}}",
                        "{{instance}}",
                    )
                ],
            ),
            6,
            6,
        ),
        panels.Cell(
            panels.timeseries(
                "Series budget overflow",
                "Measurements folded into a metric's overflow series per 5 minutes, by metric "
                "(plexichat.metric.overflow): that metric reached performance.observability."
                "series_limit label sets, and its new ones are no longer told apart.",
                [
                    panels.target(
                        "sum by (metric) (increase(plexichat_metric_overflow_total"
                        f"{{{panels.SELECTOR}}}[5m]))",
                        "{{metric}}",
                    )
                ],
            ),
            9,
            6,
        ),
    ]
    return panels.dashboard(
        UID,
        "PlexiChat / System",
        "CPU and memory of the PlexiChat service processes.",
        cells,
        options.profile,
    )


def memory_text(resolved: Any) -> str:
    return f"{resolved.target.op} {resolved.target.value:.0%}"
