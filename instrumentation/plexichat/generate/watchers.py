"""Alerts on the alerting path itself (``alerts/stack.yaml``): who watches the watchers.

Every other alert assumes that Prometheus scrapes and evaluates, and that Alertmanager reaches
its receiver. These check exactly that, from the series Prometheus and Alertmanager expose
about themselves (both are scraped in every target: jobs ``prometheus`` and ``alertmanager``,
``plexichat.generate.stack.prometheus``). What they read, their thresholds and their runbook
text are the ``watcher`` sources' entries of the watched catalog (``catalog/watched.yaml``):

- ``Watchdog`` (its ``heartbeat``) always fires (``vector(1)``, severity ``none``).
  Alertmanager sends it on its own route every heartbeat interval
  (``plexichat.generate.stack.alertmanager``); an external dead-man's switch pages when it
  *stops* arriving -- the one signal that still works when the whole path is dead, since
  silence otherwise looks like health.
- the watchers' scrape targets down, rule evaluations failing, a configuration reload that
  failed, Prometheus unable to send to Alertmanager or connected to none, Alertmanager failing
  to deliver notifications.

The same :class:`Watcher` shape serves the dependencies' alerts
(:mod:`plexichat.generate.dependencies`). Windows and ``for:`` follow the options' time scale
like every other rule.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from plexichat.catalog import Watched, WatchedEntry, default_watched
from plexichat.catalog.watched import WatchedAlert
from plexichat.generate import promql
from plexichat.generate.options import Options
from plexichat.generate.rules import anchor

WATCHDOG = default_watched().heartbeat.name
PROMETHEUS_JOB = default_watched().source("prometheus").job
"""The job of Prometheus scraping itself, in every target."""
ALERTMANAGER_JOB = default_watched().source("alertmanager").job
"""The job of Prometheus scraping Alertmanager, wherever the target runs one."""
SERIES = default_watched().series("watcher")
"""The watchers' own series the stack alerts and panels read (besides ``up``): the live test
(tests/e2e/test_watchers.py) finds each on the real binaries' /metrics."""
GROUP = "plexichat-stack-alerts"
KIND = "watcher"


@dataclass(frozen=True)
class Watcher:
    """One alert on a watched source, its thresholds resolved for a profile, and its runbook
    text."""

    name: str
    expr: Callable[[Options], str]
    hold: str  # for:, before the time scale
    severity: str
    summary: str
    meaning: str
    first_look: str
    silence: str | None  # the matcher a silence uses (job=prometheus); None: never silence it


def heartbeat(watched: Watched) -> Watcher:
    """The always-firing Watchdog."""
    beat = watched.heartbeat
    return Watcher(
        name=beat.name,
        expr=lambda options: "vector(1)",
        hold="0m",
        severity="none",
        summary=beat.summary,
        meaning=beat.meaning,
        first_look=beat.first_look,
        silence=None,
    )


def _silence(entry: WatchedEntry) -> str:
    jobs = entry.jobs or (entry.source.job,)
    return f"job={jobs[0]}" if len(jobs) == 1 else f"'job=~{'|'.join(jobs)}'"


def watcher(entry: WatchedEntry, rule: WatchedAlert) -> Watcher:
    """The alert ``rule`` of ``entry``: its value compared with the threshold."""

    def expr(options: Options) -> str:
        window = options.window(entry.window) if entry.window is not None else None
        return promql.crossing(entry.query(window), rule.op, rule.value)

    return Watcher(
        name=rule.name,
        expr=expr,
        hold=rule.for_,
        severity=rule.severity,
        summary=rule.summary,
        meaning=rule.meaning,
        first_look=rule.first_look,
        silence=_silence(entry),
    )


def of_kind(
    kind: str, watched: Watched, profile: str | None, jobs: tuple[str, ...] | None = None
) -> tuple[Watcher, ...]:
    """The alerts of the sources of ``kind`` (of ``jobs`` only, when given) under
    ``profile``; those the profile switches off are left out."""
    found = []
    for entry in watched.of(kind, jobs):
        rule = entry.resolved(profile).alert
        if rule is not None:
            found.append(watcher(entry, rule))
    return tuple(found)


def for_options(
    kind: str, options: Options, jobs: tuple[str, ...] | None = None
) -> tuple[Watcher, ...]:
    """The alerts of ``kind`` a generation run writes under its profile: of the sources every
    target runs, or of ``jobs`` (an optional source's own file)."""
    return of_kind(
        kind, options.watched, options.profile, options.base_jobs if jobs is None else jobs
    )


WATCHERS: tuple[Watcher, ...] = (
    heartbeat(default_watched()),
    *of_kind(KIND, default_watched(), None),
)
"""The Watchdog, then every stack alert, as the guide's table (no profile) has them."""


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


def stack_watchers(options: Options) -> tuple[Watcher, ...]:
    """The Watchdog, then the stack alerts of ``options``' profile."""
    return (heartbeat(options.watched), *for_options(KIND, options))


def alerts(options: Options) -> Iterator[dict[str, Any]]:
    """Every alert on the alerting path, the Watchdog first."""
    for each in stack_watchers(options):
        yield alert(each, options)


def groups(options: Options) -> list[dict[str, Any]]:
    """The rule groups of ``stack.yaml``."""
    return [{"name": GROUP, "rules": list(alerts(options))}]
