"""``snapshot``'s drawing, from synthetic series (no Prometheus): every generated dashboard
draws, each panel type has its picture, and values read as Grafana prints them. The live half
(one PNG per dashboard from the running stack) is in tests/e2e/test_up_stack.py."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from matplotlib.image import imread

from plexichat.stack.snapshot.dashboard import Dashboard, Panel, Query, Step, load
from plexichat.stack.snapshot.panels import NamedSeries, y_range
from plexichat.stack.snapshot.render import draw_dashboard
from plexichat.stack.snapshot.units import format_value
from tests.generate import support


@pytest.mark.parametrize(
    ("value", "unit", "text"),
    [
        (0.0123, "s", "12.3 ms"),
        (0.000_5, "s", "500 µs"),
        (0.955, "percentunit", "95.5 %"),
        (1234.0, "reqps", "1.23 kreq/s"),
        (3 * 2**20, "bytes", "3 MiB"),
        (1536.0, "Bps", "1.5 KiB/s"),
        (42.0, "short", "42"),
    ],
)
def test_values_read_as_grafana_prints_them(value: float, unit: str, text: str) -> None:
    assert format_value(value, unit) == text


def _series(n: int, value: float) -> list[NamedSeries]:
    return [
        NamedSeries(f"s{i}", [(1000.0 + t, value + i * 0.01) for t in range(30)]) for i in range(n)
    ]


def _distinct_colours(png: bytes) -> int:
    pixels = imread(io.BytesIO(png), format="png")
    flat = (pixels[:, :, :3] * 255).astype("uint8").reshape(-1, 3)
    return len({tuple(p) for p in flat[::7]})


@pytest.mark.parametrize("path", support.DASHBOARD_FILES, ids=lambda p: p.stem)
def test_every_generated_dashboard_draws_on_its_grid(path: Path) -> None:
    dashboard = load(support.DASHBOARDS / f"{path.stem}.json", "plexichat")
    assert dashboard.panels
    for panel in dashboard.panels:
        assert panel.x + panel.w <= 24
        assert all("$" not in q.expr for q in panel.queries), panel.title  # variables filled
    data = {i: _series(2, 0.5) for i in range(len(dashboard.panels))}
    figure = draw_dashboard(dashboard, data, "test")
    assert figure.get_size_inches()[1] == pytest.approx(dashboard.rows * 0.42 + 0.6)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    assert _distinct_colours(buffer.getvalue()) > 20


def _panel(kind: str) -> Panel:
    steps = (Step("green", None), Step("red", 0.8))
    return Panel(kind, f"a {kind}", 0, 0, 12, 8, "percentunit", steps, (Query("up", ""),))


def test_each_panel_type_draws_and_others_are_a_labelled_box() -> None:
    kinds = ("timeseries", "stat", "gauge", "bargauge", "table", "heatmap")
    panels = tuple(_panel(kind) for kind in kinds)
    dashboard = Dashboard("d", "D", panels)
    figure = draw_dashboard(dashboard, {i: _series(3, 0.9) for i in range(len(kinds))}, "")
    texts = [t.get_text() for ax in figure.axes for t in ax.texts]
    assert "heatmap panel\n(not drawn in previews)" in texts
    assert "90 %" in texts  # stat and gauge print the last value
    empty = draw_dashboard(Dashboard("e", "E", (_panel("stat"),)), {}, "")
    assert "No data" in [t.get_text() for ax in empty.axes for t in ax.texts]
    assert _panel("stat").color_of(0.9) == "red"
    assert _panel("stat").color_of(0.1) == "green"


def test_a_row_is_its_title_across_the_grid() -> None:
    row = Panel("row", "Redis", 0, 0, 24, 1, None, (), ())
    below = Panel("timeseries", "Redis up", 0, 1, 8, 7, "short", (), (Query("up", ""),))
    figure = draw_dashboard(Dashboard("d", "D", (row, below)), {1: _series(1, 1.0)}, "")
    assert "Redis" in [t.get_text() for t in figure.texts]
    assert [ax.get_title(loc="left") for ax in figure.axes] == ["Redis up"]  # no box for the row


def _latency(style: str = "dashed") -> Panel:
    steps = (Step("green", None), Step("yellow", 0.1), Step("red", 0.5))
    return Panel("timeseries", "p95", 0, 0, 12, 8, "s", steps, (Query("q", ""),), 0, None, style)


def _drawn(panel: Panel, values: list[float]) -> tuple[tuple[float, float], list[float], list[str]]:
    """The y limits, and the value and style of each threshold line (the lines after the one
    series)."""
    series = [NamedSeries("p95", [(1000.0 + t, v) for t, v in enumerate(values)])]
    (ax,) = draw_dashboard(Dashboard("d", "D", (panel,)), {0: series}, "").axes
    series_line, *thresholds = ax.lines
    assert np.asarray(series_line.get_ydata(), dtype=float).tolist() == values
    return (
        ax.get_ylim(),
        [float(np.asarray(line.get_ydata(), dtype=float)[0]) for line in thresholds],
        [str(line.get_linestyle()) for line in thresholds],
    )


def test_fast_latency_fills_the_panel_and_thresholds_above_it_are_not_drawn() -> None:
    """2 ms against a 500 ms alert line: the data sets the range (from the panel's min 0), as
    in Grafana, so it is readable; the thresholds lie outside it and are not drawn."""
    (low, high), lines, _ = _drawn(_latency(), [0.002, 0.0025] * 15)
    assert low == 0
    assert 0.0025 < high < 0.003
    assert lines == []


def test_thresholds_inside_the_range_are_drawn_in_their_style() -> None:
    """A threshold the data reaches is a line over it (the panel's style: dashed, line); one
    above the data's top still does not widen the range."""
    (low, high), lines, styles = _drawn(_latency(), [0.05, 0.3] * 15)
    assert low == 0
    assert high == pytest.approx(0.3125)
    assert (lines, styles) == ([0.1], ["--"])
    assert _drawn(_latency("line"), [0.05, 0.3])[2] == ["-"]
    assert _drawn(_latency("off"), [0.05, 0.3])[1] == []


def test_y_range_pads_the_ends_the_panel_leaves_open() -> None:
    panel = _latency()
    assert y_range(panel, [0.0, 0.0]) == (0, 1)  # flat zero: still a range
    low, high = y_range(panel, [-1.0, -1.0])  # all below the panel's min 0
    assert low == 0
    assert high == pytest.approx(0.05)
    signed = Panel("timeseries", "budget", 0, 0, 12, 8, "percentunit", (), ())
    low, high = y_range(signed, [-0.5, 0.5])
    assert low == pytest.approx(-0.55)
    assert high == pytest.approx(0.55)
