"""What ``plexichat-obs up`` prints: progress lines, the start-up table, notifications.

A ``rich`` console: colours and a boxed table on a terminal, plain aligned text when piped (so
a log file or a test reads the same words).
"""

from __future__ import annotations

import os
from typing import TextIO

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from plexichat.stack.notifications import Notification
from plexichat.stack.state import StackState

STATUS_STYLES = {"firing": "bold red", "resolved": "green"}


def console(file: TextIO | None = None) -> Console:
    """A console that colours only a terminal, and never wraps a piped line."""
    out = Console(file=file, highlight=False, soft_wrap=True)
    if not out.is_terminal:
        out = Console(file=file, highlight=False, soft_wrap=True, no_color=True, width=200)
    return out


def _relative(path: str | None) -> str:
    if path is None:
        return "-"
    try:
        relative = os.path.relpath(path)
    except ValueError:
        return path
    return relative if not relative.startswith("../..") else path


def startup_table(state: StackState, plain: bool) -> Table:
    """The table of what runs where (``plain``: no box, for piped output)."""
    table = Table(
        title=None if plain else "PlexiChat stack",
        box=None if plain else box.SIMPLE_HEAD,
        show_edge=not plain,
        pad_edge=False,
    )
    for column in ("component", "where", "PID", "log", "data"):
        table.add_column(column, no_wrap=True)
    for name, component in state.components.items():
        table.add_row(
            name,
            component.url or "-",
            str(component.pid or "-"),
            _relative(component.log),
            _relative(component.data),
        )
    return table


def native_histograms(state: StackState) -> str:
    """The start-up line of ``--native-histograms``: on, and whether the classic series stay."""
    line = (
        f"Native histograms: on (Prometheus {state.prometheus_version}): the service's job "
        "stores the native histograms of the duration histograms"
    )
    if state.classic_histograms:
        return line + " and keeps their classic series and exemplars."
    return line + "; their classic series and exemplars are not stored."


def notification(n: Notification) -> Text:
    """A notification's human line, its status coloured."""
    text = Text(n.received_at[11:19] + " ")
    text.append(f"{n.status.upper():<8}", style=STATUS_STYLES.get(n.status, ""))
    text.append(f" {n.alertname} ", style="bold")
    text.append(f"{n.severity or '-'} {n.service or '-'}  {n.summary}")
    return text
