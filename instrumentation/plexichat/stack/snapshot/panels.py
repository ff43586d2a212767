"""Drawing one panel on a matplotlib ``Axes``, by panel type, from its range-query series.

timeseries: a line per series on the y range of :func:`y_range`, threshold lines where the
panel shows them and they fall in that range, the unit on the y axis, a legend. stat: the last
value, coloured by the thresholds, over a faint sparkline. gauge: a half ring from min to max
with the thresholds' colours and the value. bargauge: a bar per series. table: a row per series
with its last value. Any other type: a labelled box saying it is not drawn (this is a preview,
not Grafana). Empty data reads "No data", as in Grafana.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from matplotlib.axes import Axes
from matplotlib.patches import Wedge
from matplotlib.ticker import FuncFormatter

from plexichat.stack.snapshot.dashboard import Panel
from plexichat.stack.snapshot.units import PALETTE, color, format_value

TITLE_SIZE = 9
MAX_LEGEND = 8
MARGIN = 0.05
"""Of the data's span, left free at each end of a time series' y range the panel leaves open."""
LINE_STYLES = {"line": "-", "dashed": "--"}
"""How Grafana's threshold styles that draw lines draw them (``+area`` is not filled here)."""


@dataclass(frozen=True)
class NamedSeries:
    """A series to draw: its legend name and ``(unix time, value)`` points."""

    name: str
    points: list[tuple[float, float]]

    @property
    def last(self) -> float | None:
        """The last value, or ``None`` without points."""
        return self.points[-1][1] if self.points else None


def _frame(ax: Axes, panel: Panel) -> None:
    ax.set_title(panel.title, fontsize=TITLE_SIZE, loc="left", fontweight="bold")
    for spine in ax.spines.values():
        spine.set_color("#cccccc")


def _bare(ax: Axes) -> None:
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)


def _no_data(ax: Axes, panel: Panel) -> None:
    _bare(ax)
    ax.text(0.5, 0.5, "No data", ha="center", va="center", fontsize=12, color="#888888")


def _clock(value: float, position: object) -> str:
    return datetime.fromtimestamp(value, UTC).strftime("%H:%M:%S")


def y_range(panel: Panel, values: Sequence[float]) -> tuple[float, float]:
    """A time series' y range: from the panel's ``min`` (else the data's lowest value less
    ``MARGIN`` of the span) to its ``max`` (else the data's highest plus as much).

    Thresholds never widen it, as in Grafana, whose auto range follows the data alone: ranged
    up to a 500 ms alert line, 2 ms of latency would lie flat on the floor. So a threshold is
    drawn only where it falls inside the range. A flat series is padded by ``MARGIN`` of its
    value (1 at zero), so the range is never empty.
    """
    low, high = min(values), max(values)
    pad = (high - low) * MARGIN or abs(high) * MARGIN or 1.0
    low = low - pad if panel.minimum is None else float(panel.minimum)
    high = high + pad if panel.maximum is None else float(panel.maximum)
    return low, max(high, low + pad)  # data all below the panel's min: still a range


def _timeseries(ax: Axes, panel: Panel, series: list[NamedSeries]) -> None:
    drawn = [s for s in series if s.points]
    if not drawn:
        _no_data(ax, panel)
        return
    for index, one in enumerate(drawn):
        ax.plot(
            [t for t, _ in one.points],
            [v for _, v in one.points],
            linewidth=1.2,
            color=PALETTE[index % len(PALETTE)],
            label=one.name,
        )
    low, high = y_range(panel, [v for one in drawn for _, v in one.points])
    ax.set_ylim(low, high)  # also ends autoscaling, which axhline would widen
    style = LINE_STYLES.get(panel.thresholds_style.split("+")[0])
    if style is not None:
        for step in panel.steps:
            if step.value is not None and low <= step.value <= high:
                ax.axhline(step.value, color=color(step.color), linestyle=style, linewidth=1)
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: format_value(v, panel.unit)))
    ax.xaxis.set_major_formatter(FuncFormatter(_clock))
    ax.tick_params(labelsize=7)
    ax.grid(True, color="#eeeeee", linewidth=0.6)
    if len(drawn) <= MAX_LEGEND:
        ax.legend(fontsize=6, loc="upper left", frameon=False, ncol=min(4, len(drawn)))


def _stat(ax: Axes, panel: Panel, series: list[NamedSeries]) -> None:
    values = [s for s in series if s.last is not None]
    if not values:
        _no_data(ax, panel)
        return
    main = values[0]
    assert main.last is not None
    tint = color(panel.color_of(main.last))
    spark = ax.inset_axes((0.0, 0.0, 1.0, 0.45))
    spark.fill_between(
        [t for t, _ in main.points], [v for _, v in main.points], color=tint, alpha=0.25
    )
    spark.set_axis_off()
    _bare(ax)
    text = format_value(main.last, panel.unit)
    if len(values) > 1:
        text += f"  (+{len(values) - 1} more)"
    ax.text(0.5, 0.55, text, ha="center", va="center", fontsize=18, color=tint, weight="bold")


def _fraction(value: float, low: float, high: float) -> float:
    return 0.0 if high <= low else min(1.0, max(0.0, (value - low) / (high - low)))


def _gauge(ax: Axes, panel: Panel, series: list[NamedSeries]) -> None:
    values = [s for s in series if s.last is not None]
    if not values:
        _no_data(ax, panel)
        return
    value = values[0].last
    assert value is not None
    low = float(panel.minimum) if panel.minimum is not None else 0.0
    high = float(panel.maximum) if panel.maximum is not None else (1.0 if value <= 1 else 100.0)
    ax.set_xlim(-1.2, 1.2)
    ax.set_ylim(-0.35, 1.15)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    edges = [low] + [s.value for s in panel.steps if s.value is not None] + [high]
    colors = [s.color for s in panel.steps] or ["green"]
    for index, (start, end) in enumerate(itertools.pairwise(edges)):
        a, b = _fraction(start, low, high), _fraction(end, low, high)
        band = Wedge((0, 0), 1.05, 180 - b * 180, 180 - a * 180, width=0.07)
        band.set_color(color(colors[min(index, len(colors) - 1)]))
        ax.add_patch(band)
    share = _fraction(value, low, high)
    ax.add_patch(Wedge((0, 0), 0.95, 0, 180, width=0.25, color="#eeeeee"))
    filled = Wedge((0, 0), 0.95, 180 - share * 180, 180, width=0.25)
    filled.set_color(color(panel.color_of(value)))
    ax.add_patch(filled)
    ax.text(
        0,
        0.12,
        format_value(value, panel.unit),
        ha="center",
        va="center",
        fontsize=16,
        color=color(panel.color_of(value)),
        weight="bold",
    )


def _bargauge(ax: Axes, panel: Panel, series: list[NamedSeries]) -> None:
    values = [(s.name, s.last) for s in series if s.last is not None]
    if not values:
        _no_data(ax, panel)
        return
    names = [name for name, _ in values]
    numbers = [float(v) for _, v in values if v is not None]
    high = float(panel.maximum) if panel.maximum is not None else max(1.0, max(numbers))
    positions = list(range(len(values)))
    ax.barh(positions, [high] * len(values), color="#eeeeee", height=0.6)
    ax.barh(positions, numbers, color=[color(panel.color_of(v)) for v in numbers], height=0.6)
    ax.set_yticks(positions, labels=names, fontsize=7)
    ax.invert_yaxis()
    ax.set_xlim(float(panel.minimum or 0), high)
    ax.set_xticks([])
    for position, number in zip(positions, numbers, strict=True):
        ax.text(high, position, " " + format_value(number, panel.unit), va="center", fontsize=7)


def _table(ax: Axes, panel: Panel, series: list[NamedSeries]) -> None:
    rows = [[s.name, format_value(s.last, panel.unit)] for s in series if s.last is not None]
    if not rows:
        _no_data(ax, panel)
        return
    _bare(ax)
    drawn = ax.table(cellText=rows, colLabels=["series", "value"], loc="upper center")
    drawn.auto_set_font_size(False)
    drawn.set_fontsize(7)


def _unsupported(ax: Axes, panel: Panel, series: list[NamedSeries]) -> None:
    _bare(ax)
    ax.text(
        0.5,
        0.5,
        f"{panel.type} panel\n(not drawn in previews)",
        ha="center",
        va="center",
        fontsize=9,
        color="#888888",
    )


DRAW: dict[str, Callable[[Axes, Panel, list[NamedSeries]], None]] = {
    "timeseries": _timeseries,
    "stat": _stat,
    "gauge": _gauge,
    "bargauge": _bargauge,
    "table": _table,
}


def draw(ax: Axes, panel: Panel, series: list[NamedSeries]) -> None:
    """Draw ``panel`` from ``series`` on ``ax`` by its type (see the module docstring)."""
    DRAW.get(panel.type, _unsupported)(ax, panel, series)
    _frame(ax, panel)


def is_finite(value: float) -> bool:
    """Whether ``value`` is neither NaN nor infinite."""
    return not (math.isnan(value) or math.isinf(value))
