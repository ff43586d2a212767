"""*System*: CPU and memory of each instance against the targets and the memory limit; worker
processes, requests in flight, metrics that hit their series budget, and the background task
runner (``performance.background_tasks``): queued and running tasks, outcomes, retries and the
failure ratio its catalog alert reads."""

from __future__ import annotations

from typing import Any

from grafanalib import core  # type: ignore[import-untyped]

from plexichat.generate.dashboards import board, panels
from plexichat.generate.options import Options


def build(options: Options) -> dict[str, Any]:
    """The System dashboard as Grafana 11 JSON, CPU and memory against ``options``' thresholds."""
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
                f"else resource_limits.max_memory_usage). Target {_memory_text(mem_t)}.",
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
        *background_tasks(options),
    ]
    return board.dashboard(
        "system",
        "PlexiChat / System",
        "CPU and memory of the PlexiChat service processes.",
        cells,
        options,
    )


TASKS_ALERT = "PlexichatBackgroundTasksFailing"


def background_tasks(options: Options) -> list[panels.Cell]:
    """The runner's panels: what waits and runs, how tasks end, and the alert's ratio."""
    failing = next(rule for rule in options.catalog.alerts if rule.name == TASKS_ALERT)
    alert = failing.alert
    return [
        panels.Cell(
            panels.timeseries(
                "Background tasks queued and running",
                "Tasks waiting for a slot or their retry delay "
                "(plexichat.background_tasks.queued) and running "
                "(plexichat.background_tasks.running), by task.kind. Running stays at or below "
                "background_tasks.max_concurrent_tasks per process; a queue that keeps growing "
                "means the work outpaces the slots.",
                panels.targets(
                    (
                        "sum by (task_kind) "
                        f"(plexichat_background_tasks_queued{{{panels.SELECTOR}}})",
                        "queued {{task_kind}}",
                    ),
                    (
                        "sum by (task_kind) "
                        f"(plexichat_background_tasks_running{{{panels.SELECTOR}}})",
                        "running {{task_kind}}",
                    ),
                ),
            ),
            8,
            7,
        ),
        panels.Cell(
            panels.timeseries(
                "Background tasks finished and retried / 5m",
                "Tasks finished per 5 minutes by outcome (plexichat.background_tasks.finished: "
                "succeeded; failed or timed_out after background_tasks.retry_attempts retries; "
                "dropped when too many waited; cancelled at shutdown) and attempts retried "
                "(plexichat.background_tasks.retries).",
                panels.targets(
                    (
                        "sum by (task_outcome) (increase(plexichat_background_tasks_finished_total"
                        f"{{{panels.SELECTOR}}}[5m]))",
                        "{{task_outcome}}",
                    ),
                    (
                        "sum (increase(plexichat_background_tasks_retries_total"
                        f"{{{panels.SELECTOR}}}[5m]))",
                        "retried",
                    ),
                ),
            ),
            8,
            7,
        ),
        panels.Cell(
            panels.timeseries(
                "Background task failure ratio",
                f"{failing.description} The alert {TASKS_ALERT} fires above the red line "
                f"({failing.display(alert.value)}) held for {alert.for_}.",
                [panels.target(failing.query(selector=panels.SELECTOR), "{{instance}}")],
                "percentunit",
                [core.Threshold("green", 0, 0.0), core.Threshold("red", 1, alert.value)],
            ),
            8,
            7,
        ),
    ]


def _memory_text(resolved: Any) -> str:
    return f"{resolved.target.op} {resolved.target.value:.0%}"
