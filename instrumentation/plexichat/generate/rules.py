"""Alerting rules: one per catalog threshold, the catalog's alerts beyond the guide's table,
plus service down/absent and series overflow.

A catalog alert fires when the table's value (``MetricEntry.query`` at the entry's window, for
``Options.job``) crosses the alert threshold of the chosen profile for the catalog's ``for:``.
An alert the catalog switches off in a profile is not written for that profile. The catalog's
``alerts:`` (``AlertRule``: background tasks failing) compare their own query with their own
threshold the same way, in every profile.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from plexichat.catalog import AlertRule, MetricEntry
from plexichat.generate import promql
from plexichat.generate.options import Options

SERVICE_DOWN = "PlexichatServiceDown"
SERVICE_ABSENT = "PlexichatServiceAbsent"
SERIES_OVERFLOW = "PlexichatMetricSeriesOverflow"
REQUESTS_ABSENT = "PlexichatRequestSeriesAbsent"
REQUESTS_INSTRUMENT = "http.server.request.duration"
"""The histogram whose observations are the service's requests (its ``_count``, or its
native histogram's ``histogram_count``)."""


def alert_name(entry: MetricEntry, op: str) -> str:
    """``response_time`` with ``>`` -> ``PlexichatResponseTimeHigh``."""
    words = "".join(part.capitalize() for part in entry.id.split("_"))
    return f"Plexichat{words}{'High' if op == '>' else 'Low'}"


def anchor(alert: str) -> str:
    """The runbook section's anchor (a Markdown heading of the alert's name)."""
    return alert.lower()


def catalog_alerts(options: Options) -> Iterator[dict[str, Any]]:
    """One alerting rule per catalog entry whose alert is on in ``options``' profile."""
    for entry in options.catalog:
        resolved = options.thresholds(entry)
        alert = resolved.alert
        if alert is None:
            continue
        name = alert_name(entry, alert.op)
        window = options.window(entry.window) if entry.window is not None else None
        query = entry.query(window, selector=options.selector)
        side = "above" if alert.op == ">" else "below"
        yield {
            "alert": name,
            "expr": promql.crossing(query, alert.op, alert.value),
            "for": options.hold(alert.for_),
            "labels": {"severity": alert.severity, "metric": entry.id, **options.alert_labels},
            "annotations": {
                "summary": (
                    f"{entry.guide_name} of {options.job} is {promql.humanized(entry)}, {side} "
                    f"the alert threshold {promql.display(entry, alert.value)} "
                    f"(target {resolved.target.op} {promql.display(entry, resolved.target.value)})."
                ),
                "runbook_url": options.runbook_url(anchor(name)),
            },
        }


def rule_alerts(options: Options) -> Iterator[dict[str, Any]]:
    """The catalog's alerts beyond the guide's table."""
    for rule in options.catalog.alerts:
        yield rule_alert(rule, options)


def rule_alert(rule: AlertRule, options: Options) -> dict[str, Any]:
    """The alerting rule of the catalog's ``rule`` (an alert beyond the table)."""
    alert = rule.alert
    query = rule.query(options.window(rule.window), selector=options.selector)
    side = "above" if alert.op == ">" else "below"
    return {
        "alert": rule.name,
        "expr": promql.crossing(query, alert.op, alert.value),
        "for": options.hold(alert.for_),
        "labels": {"severity": alert.severity, **options.alert_labels},
        "annotations": {
            "summary": (
                f"{rule.title} of {options.job} on {{{{ $labels.instance }}}} is "
                f"{promql.humanized(rule)}, {side} the alert threshold "
                f"{rule.display(alert.value)}."
            ),
            "runbook_url": options.runbook_url(anchor(rule.name)),
        },
    }


def service_alerts(options: Options) -> Iterator[dict[str, Any]]:
    """The alerts on the scrape itself: target down, no target at all, targets up without
    their request series, series over budget."""
    job = options.job
    overflow = options.catalog.instrument("plexichat.metric.overflow")
    yield {
        "alert": SERVICE_DOWN,
        "expr": promql.target_down(options.selector),
        "for": options.hold("1m"),
        "labels": {"severity": "critical", **options.alert_labels},
        "annotations": {
            "summary": f"{job} target {{{{ $labels.instance }}}} is down: Prometheus cannot "
            "scrape its /metrics (up == 0).",
            "runbook_url": options.runbook_url(anchor(SERVICE_DOWN)),
        },
    }
    yield {
        "alert": SERVICE_ABSENT,
        "expr": promql.target_absent(options.selector),
        "for": options.hold("5m"),
        "labels": {"severity": "critical", **options.alert_labels},
        "annotations": {
            "summary": f"No {job} target is scraped at all (no up series for job={job!r}): "
            "service discovery or the scrape configuration lost it.",
            "runbook_url": options.runbook_url(anchor(SERVICE_ABSENT)),
        },
    }
    requests = options.catalog.instrument(REQUESTS_INSTRUMENT).prometheus_name
    yield {
        "alert": REQUESTS_ABSENT,
        "expr": promql.scraped_without(requests, options.selector),
        "for": options.hold("15m"),
        "labels": {"severity": "warning", **options.alert_labels},
        "annotations": {
            "summary": f"{job} targets are scraped (up == 1) but expose no request series "
            f"({requests}): the instrumentation is off or dropped, or no request reached them.",
            "runbook_url": options.runbook_url(anchor(REQUESTS_ABSENT)),
        },
    }
    yield {
        "alert": SERIES_OVERFLOW,
        "expr": promql.overflowed(
            overflow.prometheus_series, options.selector, options.window("5m")
        ),
        "for": "0m",
        "labels": {"severity": "warning", **options.alert_labels},
        "annotations": {
            "summary": "Metric {{ $labels.metric }} on {{ $labels.instance }} exceeded its series "
            "budget: {{ $value | humanize }} new label sets folded into the overflow series "
            "in 5m.",
            "runbook_url": options.runbook_url(anchor(SERIES_OVERFLOW)),
        },
    }


def groups(options: Options) -> list[dict[str, Any]]:
    """The rule groups of ``alerts.yaml``: catalog alerts, then service alerts."""
    return [
        {
            "name": "plexichat-catalog-alerts",
            "rules": [*catalog_alerts(options), *rule_alerts(options)],
        },
        {"name": "plexichat-service-alerts", "rules": list(service_alerts(options))},
    ]
