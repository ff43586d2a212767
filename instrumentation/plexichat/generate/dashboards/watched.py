"""The panels of the watched catalog (``catalog/watched.yaml``), which the Dependencies and the
Stack health dashboards are made of: no panel of theirs is written by hand.

For the sources of one kind (``dependency``, ``watcher``) of a dashboard -- the sources every
target runs (``Options.base_jobs``) on Dependencies and Stack health, an optional one on its own
dashboard (:mod:`.source`), so that a target without it has no row and no panel of it -- in
the file's order: a row titled by the source, then one time series per ``panel`` its entries
name. Entries naming the same panel share it, in the row of the first source that names it
(Stack health's "Configuration reload successful" draws Prometheus' and Alertmanager's).

Each entry is one query: its PromQL, at ``$__rate_interval`` when windowed (Grafana's window for
a rate: at least four scrape intervals of the data source), named by its ``legend``. Its unit
follows its ``value_unit`` as the catalog's do (:data:`panels.UNITS`: ``s``, bytes, a ratio of 1
shown in %; a count is a plain number, a rate per second ``ops``, a 0/1 state -- ``up``, ``ok``
-- a plain number); a query of another unit than the panel's first (errors in 5 minutes beside
alerts per second) gets its own, on an axis of its own.

An entry's alert (under the run's profile) is the panel's dashed threshold line: red past it,
green on the healthy side. Not for ``> 0`` (anything at all fires: deadlocks, failures) and
``< 1`` (anything short of one fires: down, a failed reload, no Alertmanager): there the line
would lie on the axis or on the healthy value itself and tell nothing; the description still
names the alert. Every axis starts at 0: none of these values can be negative.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from grafanalib import core  # type: ignore[import-untyped]

from plexichat.catalog import CatalogError, WatchedEntry
from plexichat.catalog.watched import WatchedAlert
from plexichat.generate import promql
from plexichat.generate.dashboards import panels
from plexichat.generate.options import Options

WINDOW = "$__rate_interval"
"""The window of a windowed entry's query on a dashboard."""
WIDTH, HEIGHT = 8, 7
ROW_HEIGHT = 1
EDGES = frozenset({(">", 0.0), ("<", 1.0)})
"""Alert thresholds a line would say nothing about (see the module's docstring)."""


def unit(entry: WatchedEntry) -> str:
    """The Grafana unit of ``entry``'s value (see the module's docstring)."""
    if entry.value_unit == "1" and entry.display_unit != "%":
        return "short"  # a state: 1 or 0
    if entry.value_unit.endswith("/s") and entry.value_unit not in panels.UNITS:
        return "ops"
    return panels.UNITS.get(entry.value_unit, "short")


def rows(
    kind: str,
    options: Options,
    beside: Mapping[str, Sequence[tuple[str, str]]] | None = None,
    jobs: tuple[str, ...] | None = None,
) -> list[panels.Cell]:
    """A row per source of ``kind`` among ``jobs`` (default: those every target runs), each
    with its panels.

    ``beside`` adds ``(PromQL, legend)`` queries, in the entry's unit, right after the query of
    the entry with that id (another view of the same value).
    """
    extra = dict(beside or {})
    grouped: dict[str, list[WatchedEntry]] = {}
    for entry in options.watched.of(kind, options.base_jobs if jobs is None else jobs):
        if entry.panel is not None:
            grouped.setdefault(entry.panel, []).append(entry)
    unknown = sorted(set(extra) - {e.id for group in grouped.values() for e in group})
    if unknown:
        raise CatalogError(f"watched.yaml: no entry drawn on a {kind} panel has id {unknown}")
    cells: list[panels.Cell] = []
    for source in options.watched.sources:
        titles = [title for title, group in grouped.items() if group[0].source.job == source.job]
        if titles:
            cells.append(panels.Cell(panels.row(source.title), panels.COLUMNS, ROW_HEIGHT))
            cells += [
                panels.Cell(_panel(t, grouped[t], options, extra), WIDTH, HEIGHT) for t in titles
            ]
    return cells


def _panel(
    title: str,
    entries: Sequence[WatchedEntry],
    options: Options,
    beside: Mapping[str, Sequence[tuple[str, str]]],
) -> core.TimeSeries:
    queries: list[tuple[str, str]] = []
    units: list[str] = []
    for entry in entries:
        own = [(entry.query(WINDOW if entry.window is not None else None), entry.legend)]
        for query in (*own, *beside.get(entry.id, ())):
            queries.append(query)
            units.append(unit(entry))
    alerts = [
        (entry, rule)
        for entry in entries
        if (rule := entry.resolved(options.profile).alert) is not None
    ]
    drawn = [(entry, rule) for entry, rule in alerts if (rule.op, rule.value) not in EDGES]
    if len(drawn) > 1:
        names = [rule.name for _, rule in drawn]
        raise CatalogError(
            f"watched.yaml: panel {title!r}: alerts {names} each draw a threshold line; a "
            "panel draws one (give one of the entries a panel of its own)"
        )
    targets = panels.targets(*queries)
    return panels.timeseries(
        title,
        _describe(entries, alerts, {rule.name for _, rule in drawn}),
        targets,
        units[0],
        _steps(drawn[0][1]) if drawn else (),
        units={t.refId: u for t, u in zip(targets, units, strict=True) if u != units[0]},
    )


def _steps(rule: WatchedAlert) -> list[core.Threshold]:
    """Green on the healthy side of the alert's value, red past it."""
    if rule.op == ">":
        return [core.Threshold("green", 0, 0.0), core.Threshold("red", 1, rule.value)]
    return [core.Threshold("red", 0, 0.0), core.Threshold("green", 1, rule.value)]


def _shown(entry: WatchedEntry, value: float) -> str:
    """A value of ``entry`` in its display unit: ``90 %``, ``1 up``."""
    return f"{promql.number(value * entry.scale)} {entry.display_unit}"


def _describe(
    entries: Sequence[WatchedEntry],
    alerts: Sequence[tuple[WatchedEntry, WatchedAlert]],
    drawn: set[str],
) -> str:
    sources = dict.fromkeys(f"{e.source.component} (job {e.source.job})" for e in entries)
    parts = [f"{e.title}: {e.description}" for e in entries]
    for entry, rule in alerts:
        line = " (the dashed line)" if rule.name in drawn else ""
        parts.append(
            f"{rule.name} fires when {entry.title} {rule.op} {_shown(entry, rule.value)}"
            f" for {rule.for_}{line}."
        )
    if any(e.window is not None for e in entries):
        parts.append(f"The window is Grafana's {WINDOW}.")
    return f"From {', '.join(sources)}. " + " ".join(parts)
