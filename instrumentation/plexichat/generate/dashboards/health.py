"""The stack's health at a glance, from Prometheus' own ``ALERTS`` series: the *Stack healthy*
stat (Overview, Stack health) and *Watchdog last seen* (Stack health).

Both read the alerts the watched catalog defines by name, the optional sources' among them
(``alerts/dependencies.yaml``, ``alerts/stack.yaml`` and every ``optional/<job>/alerts.yaml``):
these shared dashboards cannot know which optional sources a deployment runs, and asking about
an alert that is never evaluated (PostgresDown without PostgreSQL) finds no series, which reads
as healthy. The heartbeat is read by the catalog's name for it.
"""

from __future__ import annotations

from collections.abc import Iterable

from grafanalib import core  # type: ignore[import-untyped]

from plexichat.catalog.validation import series_read
from plexichat.generate import promql, watchers
from plexichat.generate.dashboards import panels
from plexichat.generate.options import Options
from plexichat.generate.stack.targets import SHIPPED_TIMING

KINDS = ("dependency", "watcher")
LATE_EVALUATIONS = 3
"""Watchdog last seen turns red past this many of the bundles' evaluation intervals."""
HEALTHY = [
    {
        "type": "value",
        "options": {
            "0": {"text": "unhealthy", "color": "red", "index": 0},
            "1": {"text": "healthy", "color": "green", "index": 1},
        },
    }
]


def _alerts(names: Iterable[str], state: str | None = None) -> str:
    """Prometheus' series of the alerts ``names`` (in ``state`` only, when given)."""
    matchers = [f'alertname=~"{"|".join(sorted(names))}"']
    if state is not None:
        matchers.append(f'alertstate="{state}"')
    return f"ALERTS{{{', '.join(matchers)}}}"


def _heartbeat(options: Options) -> str:
    return f'ALERTS{{alertname="{options.watched.heartbeat.name}", alertstate="firing"}}'


def watched_alerts(options: Options) -> list[str]:
    """The names of every alert on the dependencies and the alerting path under the run's
    profile, every optional source's included (the Watchdog aside)."""
    every = options.with_every_source()
    return [
        alert.name
        for kind in KINDS
        for alert in watchers.for_options(kind, every, every.watched_jobs)
    ]


def down_alerts(options: Options) -> list[str]:
    """The names of the alerts of the watched entries that read ``up``: a source down
    (``RedisDown``, ``StackTargetDown``)."""
    return [
        rule.name
        for kind in KINDS
        for entry in options.watched.of(kind)
        if (rule := entry.resolved(options.profile).alert) is not None
        and series_read(entry.promql, ["up"])
    ]


def watchdog_age(options: Options) -> str:
    """Seconds since Prometheus last evaluated the heartbeat as firing (empty once that is
    beyond its lookback, 5 minutes)."""
    return f"time() - max(timestamp({_heartbeat(options)}))"


def stack_healthy_query(options: Options) -> str:
    """1 when the Watchdog was evaluated within ``LATE_EVALUATIONS`` evaluation intervals, no
    watched alert fires and no Down alert is even pending; 0 otherwise (never empty: no alert
    at all is a count of 0, no Watchdog an age of none)."""
    unwell = f"{_alerts(down_alerts(options))} or {_alerts(watched_alerts(options), 'firing')}"
    late = promql.number(late_after_s())
    return (
        f"((count({unwell}) or vector(0)) == bool 0)\n"
        f"* ((({watchdog_age(options)}) < bool {late}) or vector(0))"
    )


def late_after_s() -> float:
    """How old the Watchdog's last evaluation may be, in seconds, before it counts as stopped."""
    return LATE_EVALUATIONS * promql.seconds(SHIPPED_TIMING.evaluation_interval)


def stack_healthy(options: Options) -> core.Stat:
    """The *Stack healthy* stat: 1 (healthy) or 0 (unhealthy)."""
    beat = options.watched.heartbeat.name
    return panels.stat(
        "Stack healthy",
        f"1 (healthy) when Prometheus evaluated the always-firing {beat} in the last "
        f"{promql.number(late_after_s())} s (it evaluates its rules: {beat} last seen), no "
        f"alert on the stack or its dependencies fires ({', '.join(watched_alerts(options))}) "
        f"and no Down alert ({', '.join(down_alerts(options))}) is even pending: a dependency "
        "or watcher that goes down turns it 0 within one evaluation, before the alert's for: "
        "has passed. 0 (unhealthy) otherwise. From Prometheus' ALERTS series; the Stack "
        "health and Dependencies dashboards say which part is unwell.",
        stack_healthy_query(options),
        "short",
        [core.Threshold("red", 0, 0.0), core.Threshold("green", 1, 1.0)],
        decimals=0,
        mappings=HEALTHY,
    )


def watchdog_last_seen(options: Options) -> core.Stat:
    """The *Watchdog last seen* stat: seconds since Prometheus last evaluated the heartbeat
    as firing."""
    beat = options.watched.heartbeat.name
    interval = SHIPPED_TIMING.evaluation_interval
    return panels.stat(
        f"{beat} last seen",
        f"Seconds since Prometheus last evaluated the always-firing {beat} as firing (the "
        f"timestamp of its ALERTS sample): at most one evaluation interval ({interval} in the "
        f"bundles) while Prometheus evaluates its rules, red past {LATE_EVALUATIONS} of them. "
        "It proves the evaluating half of the alerting path only: whether the heartbeat "
        "reaches its receiver is what the external dead-man's switch sees (Alertmanager "
        "counts notifications per integration, not per receiver). No value: Prometheus has "
        "not evaluated it within its 5-minute lookback.",
        watchdog_age(options),
        "s",
        [core.Threshold("green", 0, 0.0), core.Threshold("red", 1, late_after_s())],
        no_value="not in 5 min",
    )
