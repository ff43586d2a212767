"""``docs/runbooks.md``: one section per alert (what it means, what to look at first, how to
silence it), anchored by the alert's name so ``runbook_url`` lands on it."""

from __future__ import annotations

from typing import Any

from plexichat.generate import banner, dependencies, rules, slo, watchers
from plexichat.generate.options import Options

FIRST_LOOK = {
    "response_time": "curl http://localhost:8000/metrics | grep response_time; "
    "PLEXICHAT_LOG_LEVEL=DEBUG PLEXICHAT_PERFORMANCE_PROFILING=true; "
    'tail -f logs/performance.log | grep "slow_query" (in the Compose and Helm bundles the '
    "performance log is the container's stdout: docker compose logs plexichat, kubectl logs)",
    "request_latency": "the HTTP dashboard's time-to-first-byte percentiles per route",
    "memory_usage": "MemoryProfiler().get_memory_stats(): current_mb, peak_mb, "
    "growth_rate_mb_per_hour",
    "cache_hit_ratio": "await CacheManager().get_stats(): hit_ratio, miss_ratio, "
    "evictions_per_hour, memory_usage_mb",
    "cpu_usage": "@performance_profile / Profiler() around the hottest handler",
}
"""The guide's Troubleshooting section, per catalog entry."""

OTHERS = {
    rules.SERVICE_DOWN: (
        "Prometheus reaches the target but the scrape fails, or the process is down.",
        "`curl -sf http://<instance>/healthz` and `/metrics`; the service log; the container's "
        "restarts and OOM kills.",
    ),
    rules.SERVICE_ABSENT: (
        "No target of the job exists: discovery or the scrape configuration lost the service.",
        "Prometheus' Targets page, the scrape config's job name, the Kubernetes Service/pods.",
    ),
    rules.REQUESTS_ABSENT: (
        "Prometheus scrapes the service, but no target of the job exposes its request "
        "counter: `telemetry.metrics` is off, `telemetry.excluded_paths` swallows every route, "
        "a relabelling or `metric_relabel_configs` drops the series, or no request has "
        "reached the service since it started (probes on `/healthz` are not counted). "
        "`PlexichatServiceDown` and `PlexichatServiceAbsent` cannot see this: `up` is 1.",
        "`curl -s http://<instance>/metrics | grep http_server_request_duration`; the "
        "service's `telemetry` configuration; the scrape job's relabelling; whether any "
        "traffic reaches the instance (its access log, the load balancer).",
    ),
    rules.SERIES_OVERFLOW: (
        "A metric exceeded `performance.observability.series_limit` label sets; new ones fold "
        'into one `otel_metric_overflow="true"` series, so per-label detail is lost.',
        'Which label explodes: `count by (__name__)({__name__=~".+"})`, unbounded values '
        "(ids, raw paths) in attributes; raise the limit only for legitimate growth.",
    ),
}


def _silence(alert: str, job: str) -> str:
    return _silence_matching(alert, f"job={job}")


def _silence_matching(alert: str, matcher: str) -> str:
    return (
        f"`amtool silence add alertname={alert} {matcher} --duration=2h "
        f'--comment="<why>"` (or Alertmanager\'s UI); fix the cause or the catalog threshold, '
        "never the generated rule."
    )


def _section(alert: dict[str, Any], meaning: str, first: str, job: str) -> str:
    return _section_silenced(alert, meaning, first, _silence(alert["alert"], job))


def _section_silenced(alert: dict[str, Any], meaning: str, first: str, silence: str) -> str:
    name = alert["alert"]
    return (
        f"## {name}\n\n"
        f"Severity **{alert['labels']['severity']}**, after `for: {alert['for']}`.\n\n"
        f"**What it means.** {meaning}\n\n"
        f"```promql\n{alert['expr']}\n```\n\n"
        f"**Look first at.** {first}\n\n"
        f"**Silence it.** {silence}\n"
    )


def render(options: Options) -> str:
    """``docs/runbooks.md`` for ``options``: a section per catalog, rule, service, SLO, stack
    (alerting path) and dependency alert, the optional sources' included (their alerts link
    here wherever they run)."""
    parts = [
        banner.markdown_comment(options.profile),
        "# Runbooks\n\nOne section per generated alert. Thresholds, windows and `for:` come from "
        "the metric catalog; change them there and run `plexichat-obs generate`.\n",
    ]
    for alert in rules.catalog_alerts(options):
        entry = options.catalog[alert["labels"]["metric"]]
        first = entry.runbook
        if entry.id in FIRST_LOOK:
            first += f" From the guide's Troubleshooting: {FIRST_LOOK[entry.id]}."
        meaning = alert["annotations"]["summary"].replace("{{", "`{{").replace("}}", "}}`")
        parts.append(_section(alert, f"{entry.description}. {meaning}", first, options.job))
    for rule in options.catalog.alerts:
        alert = rules.rule_alert(rule, options)
        parts.append(_section(alert, rule.description, rule.runbook, options.job))
    for alert in rules.service_alerts(options):
        meaning, first = OTHERS[alert["alert"]]
        parts.append(_section(alert, meaning, first, options.job))
    seen: set[str] = set()
    for alert in slo.alert_rules(options):
        if alert["alert"] in seen:
            continue
        seen.add(alert["alert"])
        which = alert["labels"]["slo"]
        parts.append(
            f"## {alert['alert']}\n\n"
            f"The {which} SLO burns its {options.slo_window} error budget too fast. Four rules "
            "share this name (label `long_window`): 1h/5m and 6h/30m page (critical), 1d/2h and "
            "3d/6h open a ticket (warning); each needs the long and the short window over the "
            "burn-rate limit, so it resolves soon after the cause stops.\n\n"
            f"**Look first at.** The SLO dashboard's burn rates, then the "
            f"{'error rate per route' if which == 'availability' else 'response time per route'}"
            " on the HTTP dashboard and the runbook of the matching catalog alert.\n\n"
            f"**Silence it.** {_silence(alert['alert'], options.job)}\n"
        )
    for watcher in watchers.stack_watchers(options):
        alert = watchers.alert(watcher, options)
        silence = (
            _silence_matching(watcher.name, watcher.silence)
            if watcher.silence is not None
            else "Never: a silenced Watchdog is a heartbeat that stopped, and the dead-man's "
            "switch pages. Pause the switch instead (planned maintenance)."
        )
        parts.append(_section_silenced(alert, watcher.meaning, watcher.first_look, silence))
    every = options.with_every_source()  # the optional sources' alerts link here too
    for dependency in watchers.for_options(dependencies.KIND, every, every.watched_jobs):
        alert = watchers.alert(dependency, options)
        silence = _silence_matching(dependency.name, dependency.silence or "")
        parts.append(_section_silenced(alert, dependency.meaning, dependency.first_look, silence))
    return "\n".join(parts)
