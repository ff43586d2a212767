"""Alerts on the alerting path itself (``alerts/stack.yaml``): who watches the watchers.

Every other alert assumes that Prometheus scrapes and evaluates, and that Alertmanager reaches
its receiver. These check exactly that, from the series Prometheus and Alertmanager expose
about themselves (both are scraped in every target: jobs ``prometheus`` and ``alertmanager``,
``plexichat.generate.stack.prometheus``):

- ``Watchdog`` always fires (``vector(1)``, severity ``none``). Alertmanager sends it on its own
  route every heartbeat interval (``plexichat.generate.stack.alertmanager``); an external
  dead-man's switch pages when it *stops* arriving -- the one signal that still works when the
  whole path is dead, since silence otherwise looks like health.
- the watchers' scrape targets down, rule evaluations failing, a configuration reload that
  failed, Prometheus unable to send to Alertmanager or connected to none, Alertmanager failing
  to deliver notifications.

Metric names are those of the Debian ``prometheus`` 2.42 and ``prometheus-alertmanager`` 0.25
binaries (checked against their ``/metrics``). Thresholds are "any at all", held long enough
that one transient failure never pages: a counter's 5m increase stays above 0 for 5 minutes
after a single failure, so a ``for:`` of 10m needs failures for over 5 minutes. Windows and
``for:`` follow the options' time scale like every other rule.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from plexichat.generate.options import Options
from plexichat.generate.rules import anchor

WATCHDOG = "Watchdog"
PROMETHEUS_JOB = "prometheus"
"""The job of Prometheus scraping itself, in every target."""
ALERTMANAGER_JOB = "alertmanager"
"""The job of Prometheus scraping Alertmanager, wherever the target runs one."""
WATCHED_JOBS = f'job=~"{PROMETHEUS_JOB}|{ALERTMANAGER_JOB}"'
SERIES = frozenset(
    {
        "prometheus_rule_evaluation_failures_total",
        "prometheus_config_last_reload_successful",
        "prometheus_notifications_errors_total",
        "prometheus_notifications_alertmanagers_discovered",
        "alertmanager_config_last_reload_successful",
        "alertmanager_notifications_failed_total",
    }
)
"""The watchers' own series these alerts read (besides ``up``): no catalog instrument, so the
live test (tests/e2e/test_watchers.py) finds each on the real binaries' /metrics."""
EITHER_JOB = f"'job=~{PROMETHEUS_JOB}|{ALERTMANAGER_JOB}'"
"""An amtool matcher of both watchers' jobs."""
GROUP = "plexichat-stack-alerts"


def _failures(series: str, job: str, by: str) -> Callable[[Options], str]:
    """Any increase of a failure counter within 5m, per watcher instance and ``by``."""

    def expr(options: Options) -> str:
        window = options.window("5m")
        return f'sum by (job, instance, {by}) (increase({series}{{job="{job}"}}[{window}])) > 0'

    return expr


@dataclass(frozen=True)
class Watcher:
    """One alert on the alerting path: its rule and its runbook text."""

    name: str
    expr: Callable[[Options], str]
    hold: str  # for:, before the time scale
    severity: str
    summary: str
    meaning: str
    first_look: str
    silence: str | None  # the matcher a silence uses (job=prometheus); None: never silence it


WATCHERS: tuple[Watcher, ...] = (
    Watcher(
        name=WATCHDOG,
        expr=lambda options: "vector(1)",
        hold="0m",
        severity="none",
        summary="Always firing: the heartbeat of the alerting pipeline. An external "
        "dead-man's switch pages when it stops arriving.",
        meaning="Nothing is wrong: this alert always fires, so that its notification proves "
        "that Prometheus evaluates rules, reaches Alertmanager, and Alertmanager reaches its "
        "receivers. Alertmanager sends it on its own route (receiver `watchdog`, never "
        "`resolved`) every heartbeat interval (1m in the bundles); point that receiver at a "
        "dead-man's switch (healthchecks.io, Dead Man's Snitch, PagerDuty or Opsgenie "
        "heartbeats) that pages when no heartbeat came for a few intervals. The page is the "
        "alert: its *absence* means alerting is dead.",
        first_look="When the switch pages: is Prometheus up and evaluating (its /rules page, "
        "`PrometheusRuleEvaluationFailures`), does it reach Alertmanager "
        "(`PrometheusNotConnectedToAlertmanagers`, `PrometheusNotificationErrors`), does "
        "Alertmanager reach the switch (`AlertmanagerNotificationsFailing`, its log); "
        "`plexichat-obs status` says whether the Watchdog fires in Prometheus.",
        silence=None,
    ),
    Watcher(
        name="StackTargetDown",
        expr=lambda options: f"up{{{WATCHED_JOBS}}} == 0",
        hold="1m",
        severity="critical",
        summary="{{ $labels.job }} target {{ $labels.instance }} is down: Prometheus cannot "
        "scrape it (up == 0).",
        meaning="Prometheus cannot scrape Alertmanager (alerts may not be delivered: this one "
        "too, which is what the Watchdog's dead-man's switch is for) or its own /metrics "
        "(its self-observation is blind).",
        first_look="Prometheus' Targets page; `curl -sf http://<instance>/-/healthy`; the "
        "process or pod of that job, its restarts and log.",
        silence=EITHER_JOB,
    ),
    Watcher(
        name="PrometheusRuleEvaluationFailures",
        expr=_failures("prometheus_rule_evaluation_failures_total", PROMETHEUS_JOB, "rule_group"),
        hold="10m",
        severity="critical",
        summary="Prometheus {{ $labels.instance }} failed to evaluate rules of group "
        "{{ $labels.rule_group }} {{ $value | humanize }} times in 5m: alerts of that group "
        "may never fire.",
        meaning="Rule evaluations fail again and again: an alert or recording rule whose "
        "query errors (a vector matching conflict, too many samples, a timeout), so what it "
        "watches is unwatched.",
        first_look="Prometheus' Rules page (the failing rule shows its last error); "
        "Prometheus' log (`Evaluating rule failed`); `promtool check rules` on the file.",
        silence=f"job={PROMETHEUS_JOB}",
    ),
    Watcher(
        name="StackConfigReloadFailed",
        expr=lambda options: (
            f'prometheus_config_last_reload_successful{{job="{PROMETHEUS_JOB}"}} == 0\n'
            f'or alertmanager_config_last_reload_successful{{job="{ALERTMANAGER_JOB}"}} == 0'
        ),
        hold="10m",
        severity="warning",
        summary="The last configuration reload of {{ $labels.job }} {{ $labels.instance }} "
        "failed: it still runs the previous configuration.",
        meaning="A changed prometheus.yml, rule file or alertmanager.yml was rejected; the "
        "process keeps the configuration it had, so the change is not in effect.",
        first_look="The process' log (`Error reloading config`, `Loading configuration file "
        "failed`); `promtool check config` / `amtool check-config` on the file.",
        silence=EITHER_JOB,
    ),
    Watcher(
        name="PrometheusNotificationErrors",
        expr=_failures("prometheus_notifications_errors_total", PROMETHEUS_JOB, "alertmanager"),
        hold="10m",
        severity="warning",
        summary="Prometheus {{ $labels.instance }} failed {{ $value | humanize }} times in 5m "
        "to send alerts to {{ $labels.alertmanager }}.",
        meaning="Prometheus evaluates alerts but cannot hand them to an Alertmanager: "
        "connection refused, timeouts, or Alertmanager rejecting them.",
        first_look="`StackTargetDown` for job alertmanager; Prometheus' log (`Error sending "
        "alert`); the network between the two (a NetworkPolicy in the chart).",
        silence=f"job={PROMETHEUS_JOB}",
    ),
    Watcher(
        name="PrometheusNotConnectedToAlertmanagers",
        expr=lambda options: (
            f"max by (job, instance) (prometheus_notifications_alertmanagers_discovered"
            f'{{job="{PROMETHEUS_JOB}"}}) < 1'
        ),
        hold="5m",
        severity="critical",
        summary="Prometheus {{ $labels.instance }} knows no Alertmanager: every alert it "
        "evaluates goes nowhere.",
        meaning="Prometheus' alerting configuration names no Alertmanager, or discovery "
        "finds none (in the chart: `alertmanager.enabled: false` without an external one).",
        first_look="Prometheus' Status > Runtime & Build Information (Alertmanagers); the "
        "`alerting:` block of prometheus.yml.",
        silence=f"job={PROMETHEUS_JOB}",
    ),
    Watcher(
        name="AlertmanagerNotificationsFailing",
        expr=_failures("alertmanager_notifications_failed_total", ALERTMANAGER_JOB, "integration"),
        hold="10m",
        severity="critical",
        summary="Alertmanager {{ $labels.instance }} failed {{ $value | humanize }} times in "
        "5m to deliver {{ $labels.integration }} notifications.",
        meaning="Alerts reach Alertmanager, but its receivers do not get them: the webhook "
        "(or other integration) refuses, times out or answers an error.",
        first_look="Alertmanager's log (`Notify for alerts failed`, with the receiver and the "
        "error); the receiver's URL and health; the Watchdog's dead-man's switch.",
        silence=f"job={ALERTMANAGER_JOB}",
    ),
)


def alert(watcher: Watcher, options: Options) -> dict[str, Any]:
    """The alerting rule of ``watcher`` under ``options`` (time scale, runbook URL)."""
    labels = {"severity": watcher.severity}
    if watcher.name == WATCHDOG:  # vector(1) has no labels: say whose heartbeat it is
        labels |= {"job": PROMETHEUS_JOB, "service": PROMETHEUS_JOB}
    else:  # every expression keeps job: group, inhibit and silence by the watcher
        labels["service"] = "{{ $labels.job }}"
    return {
        "alert": watcher.name,
        "expr": watcher.expr(options),
        "for": options.hold(watcher.hold),
        "labels": labels,
        "annotations": {
            "summary": watcher.summary,
            "runbook_url": options.runbook_url(anchor(watcher.name)),
        },
    }


def alerts(options: Options) -> Iterator[dict[str, Any]]:
    """Every alert on the alerting path, the Watchdog first."""
    for watcher in WATCHERS:
        yield alert(watcher, options)


def groups(options: Options) -> list[dict[str, Any]]:
    """The rule groups of ``stack.yaml``."""
    return [{"name": GROUP, "rules": list(alerts(options))}]
