"""The metric table in ``README.md``, between the ``metric-table`` markers."""

from __future__ import annotations

from plexichat.generate import promql
from plexichat.generate.options import Options

BEGIN = "<!-- BEGIN GENERATED: metric-table -->"
END = "<!-- END GENERATED: metric-table -->"


class MarkersMissingError(ValueError):
    """``README.md`` lacks the ``metric-table`` markers the table goes between."""


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
        rows.append(
            f"| {entry.id} | {entry.guide_name} | {statistic} | {series} | "
            f"{resolved.target.op} {promql.display(entry, resolved.target.value)} | {shown} | "
            f"{alert.severity if alert else '-'} |"
        )
    return "\n".join(rows) + "\n"


def splice(readme: str, options: Options) -> str:
    """``readme`` with the text between the markers replaced by the generated table."""
    start, end = readme.find(BEGIN), readme.find(END)
    if start < 0 or end < start:
        raise MarkersMissingError(f"README.md lacks the markers {BEGIN} ... {END}")
    from plexichat.generate import banner

    inner = f"\n{banner.markdown_comment(options.profile)}\n{table(options)}"
    return readme[: start + len(BEGIN)] + inner + readme[end:]
