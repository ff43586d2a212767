"""``snapshot``'s drawing, from synthetic series (no Prometheus): every generated dashboard
draws, each panel type has its picture, and values read as Grafana prints them. The live half
(one PNG per dashboard from the running stack) is in tests/e2e/test_up_stack.py."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from matplotlib.image import imread

from plexichat.stack.snapshot.dashboard import Panel, Query, Step, load
from plexichat.stack.snapshot.panels import NamedSeries
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
        assert all("$job" not in q.expr and "$instance" not in q.expr for q in panel.queries)
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
    from plexichat.stack.snapshot.dashboard import Dashboard

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
