"""How ``plexichat-obs status`` shows a ``Status``: a coloured table on a terminal, plain aligned
text when piped, JSON for scripts (``--format json``). A late heartbeat is the loudest line:
``ALERTING IS BROKEN``, bold red."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from rich import box
from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from plexichat.stack.heartbeat import RESEND_DELAY_S, Heartbeat
from plexichat.stack.status import MetricStatus, Status

HISTOGRAMS = {"native": "native histogram", "classic": "classic buckets, bucket-bounded"}
"""How a quantile's row names the histogram it was taken of (``MetricStatus.histogram``)."""
STATE_STYLES = {
    "firing": "bold red",
    "pending": "yellow",
    "misses target": "yellow",
    "meets target": "green",
    "no data": "dim",
}


def as_json(status: Status) -> str:
    """The status as indented JSON (``--format json``)."""
    return json.dumps(status.to_dict(), indent=2, sort_keys=True)


def _budget(left: float | None) -> Text:
    if left is None:
        return Text("no data", style="dim")
    if left < 0:
        return Text(f"exhausted: {1 - left:.3g}x the budget spent", style="bold red")
    style = "green" if left >= 0.5 else "yellow" if left >= 0.25 else "red"
    return Text(f"{left * 100:.1f} % left", style=style)


def _watchdog(since: str | None) -> Text:
    line = Text("Watchdog (alerting heartbeat): ")
    if since is None:
        line.append(
            "NOT firing: Prometheus does not evaluate the stack rules (alerts/stack.yaml), so "
            "no alert can fire or reach Alertmanager; alerting is dead",
            style="bold red",
        )
    else:
        line.append(f"firing since {since}", style="green")
        line.append(": rules evaluate and the heartbeat goes to Alertmanager")
    return line


def _heartbeat(beat: Heartbeat) -> Text:
    line = Text("Heartbeat at the receiver: ")
    if beat.state == "not checked":
        line.append(
            "delivery not checked (no receiver to ask: --receiver URL asks one; in production "
            "the dead-man's switch the Watchdog goes to is the judge)",
            style="dim",
        )
        return line
    where = f"receiver {beat.receiver}"
    if beat.state == "unreachable":
        line.append(f"cannot be checked: {beat.error}", style="bold yellow")
        return line
    expected = f"expected every {beat.interval_s:g} s, late after {beat.late_after_s:g} s"
    if beat.late:
        line = Text(
            f"ALERTING IS BROKEN: the heartbeat has not reached the receiver for "
            f"{beat.age_s:.0f} s",
            style="bold red",
        )
        last = f"last at {beat.last_arrival}" if beat.last_arrival else "none since it started"
        line.append(f" ({last}; {expected}; {where})")
    elif beat.state == "arrived":
        line.append(f"arrived {beat.age_s:.0f} s ago, at {beat.last_arrival}", style="green")
        line.append(f" ({expected}; {where})")
    else:
        waited = "" if beat.age_s is None else f" after {beat.age_s:.0f} s"
        line.append(f"none yet{waited}", style="yellow")
        line.append(f" (the first may take {RESEND_DELAY_S:g} s more; {expected}; {where})")
    return line


def _metric(metric: MetricStatus) -> str:
    """The metric column: name, statistic and window, and a quantile's histogram."""
    statistic = metric.statistic
    if metric.histogram is not None:
        statistic += f", {HISTOGRAMS[metric.histogram]}"
    return f"{metric.name} ({statistic})"


def render(status: Status, plain: bool) -> RenderableType:
    """The status as a rich renderable; ``plain`` for piped output."""
    when = datetime.fromtimestamp(status.evaluated_at, UTC).strftime("%H:%M:%S UTC")
    profile = status.profile or "none (the guide's table)"
    heading = f"Core Performance Metrics at {when}: {status.prometheus}, profile {profile}"
    if status.time_scale != 1:
        heading += f", time scale {status.time_scale:g}"
    table = Table(box=None if plain else box.SIMPLE_HEAD, pad_edge=False, show_edge=not plain)
    for column in ("metric", "value", "target", "alert", "state"):
        table.add_column(column, no_wrap=True, justify="right" if column == "value" else "left")
    for metric in status.metrics:
        value = metric.display
        if metric.instances > 1:
            value += f" (worst of {metric.instances})"
        table.add_row(
            _metric(metric),
            value,
            metric.target,
            metric.alert,
            Text(metric.state, style=STATE_STYLES.get(metric.state, "")),
        )
    parts: list[RenderableType] = [Text(heading, style="bold"), table]
    for budget in status.budgets:
        line = Text(f"SLO {budget.slo} ({budget.objective}), {budget.window} error budget: ")
        line.append_text(_budget(budget.left))
        parts.append(line)
    parts.append(_watchdog(status.watchdog_since))
    parts.append(_heartbeat(status.heartbeat))
    if status.alerts:
        parts.append(Text("Firing alerts:", style="bold"))
        for alert in status.alerts:
            style = "bold red" if alert.severity == "critical" else "yellow"
            line = Text("  ")
            line.append(f"{alert.alertname} ({alert.severity})", style=style)
            line.append(f": {alert.summary}")
            if alert.runbook_url:
                line.append(f"\n    runbook: {alert.runbook_url}")
            parts.append(line)
    else:
        parts.append(Text("No alert is firing.", style="green"))
    return Group(*parts)


def show(console: Console, status: Status) -> None:
    """Print the status, plain when the console is not a terminal."""
    console.print(render(status, plain=not console.is_terminal))
