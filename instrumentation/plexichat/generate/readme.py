"""The generated tables in ``README.md``: the guide's metric table (between the
``metric-table`` markers) and what the stack watches besides the service (``watched-table``)."""

from __future__ import annotations

from collections.abc import Callable

from plexichat.catalog import WatchedEntry
from plexichat.generate import banner, promql
from plexichat.generate.options import Options


def markers(name: str) -> tuple[str, str]:
    """The comments a generated table ``name`` goes between."""
    return f"<!-- BEGIN GENERATED: {name} -->", f"<!-- END GENERATED: {name} -->"


BEGIN, END = markers("metric-table")


class MarkersMissingError(ValueError):
    """``README.md`` lacks the markers a generated table goes between."""


def table(options: Options) -> str:
    """The guide's metric table as Markdown: statistic, series, target, alert and severity of
    each entry in ``options``' profile."""
    rows = [
        "| id | guide's metric | statistic | Prometheus series | target | alert (for) | severity |",
        "|---|---|---|---|---|---|---|",
    ]
    for entry in options.catalog:
        resolved = options.thresholds(entry)
        series = ", ".join(f"`{s}`" for s in entry.series)
        alert = resolved.alert
        shown = (
            f"{alert.op} {promql.display(entry, alert.value)} ({alert.for_})" if alert else "off"
        )
        statistic = f"{entry.window} {entry.statistic}" if entry.window else entry.statistic
        if entry.quantile is not None:
            statistic += ", native histogram where stored, else classic buckets (bucket-bounded)"
        rows.append(
            f"| {entry.id} | {entry.guide_name} | {statistic} | {series} | "
            f"{resolved.target.op} {promql.display(entry, resolved.target.value)} | {shown} | "
            f"{alert.severity if alert else '-'} |"
        )
    return "\n".join(rows) + "\n"


def _threshold(entry: WatchedEntry, op: str, value: float) -> str:
    number = f"{value * entry.scale:.10g}"
    flag = entry.value_unit == "1" and entry.scale == 1  # up, reload ok: 1 or 0, no unit
    shown = number if flag else f"{number} {entry.display_unit}"
    return f"{entry.title} {op} {shown}" + (f" in {entry.window}" if entry.window else "")


def watched_table(options: Options) -> str:
    """What the stack watches besides the service: one row per watched alert (source, what
    exposes it, the condition, ``for:``, severity), from ``watched.yaml`` in ``options``'
    profile, optional sources included and marked."""
    rows = [
        "| job | watched through | alert | fires when (for) | severity |",
        "|---|---|---|---|---|",
    ]
    beat = options.watched.heartbeat
    rows.append(f"| prometheus | its rule evaluation | {beat.name} | always (heartbeat) | none |")
    for entry in options.watched.entries:
        alert = entry.resolved(options.profile).alert
        if alert is None:
            continue
        source = entry.source
        job = "`, `".join(entry.jobs or (source.job,))
        optional = " (when configured)" if source.optional else ""
        rows.append(
            f"| `{job}` | {source.component}{optional} | {alert.name} | "
            f"{_threshold(entry, alert.op, alert.value)} ({alert.for_}) | {alert.severity} |"
        )
    return "\n".join(rows) + "\n"


TABLES: dict[str, Callable[[Options], str]] = {
    "metric-table": table,
    "watched-table": watched_table,
}
"""Each generated table of the README, by its markers' name."""


def splice(readme: str, options: Options) -> str:
    """``readme`` with the text between each table's markers replaced by the generated table."""
    for name, build in TABLES.items():
        begin, end = markers(name)
        start, stop = readme.find(begin), readme.find(end)
        if start < 0 or stop < start:
            raise MarkersMissingError(f"README.md lacks the markers {begin} ... {end}")
        inner = f"\n{banner.markdown_comment(options.profile)}\n{build(options)}"
        readme = readme[: start + len(begin)] + inner + readme[stop:]
    return readme
