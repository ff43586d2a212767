"""Generated dashboards: Grafana 11 schema (grafana-foundation-sdk 11.6) keeps every key, panel
ids are unique, the grid fits 24 columns without overlap, every variable is defined."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from grafana_foundation_sdk.cog import plugins
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models.dashboard import Dashboard

from plexichat.catalog import load_catalog
from tests.generate import support

MODERN = {"timeseries", "stat", "gauge", "bargauge", "table", "alertlist", "row"}
BUILTIN = {
    "__rate_interval",
    "__interval",
    "__range",
    "__all",
    "__url_time_range",
    "__all_variables",
}
PROMETHEUS_ANNOTATION_OPTIONS = {"step", "titleFormat", "tagKeys", "useValueForTime"}
"""The Prometheus data source's annotation options: Grafana's core schema (what the
foundation SDK models) leaves a data source's own annotation keys open."""

plugins.register_default_plugins()


def _lost(original: Any, loaded: Any, path: str = "") -> list[str]:
    if isinstance(original, dict):
        if not isinstance(loaded, dict):
            return [path]
        missing = [f"{path}.{key}" for key in original if key not in loaded]
        return missing + [
            lost
            for key, value in original.items()
            if key in loaded
            for lost in _lost(value, loaded[key], f"{path}.{key}")
        ]
    if isinstance(original, list) and isinstance(loaded, list):
        return [
            lost
            for i, (a, b) in enumerate(zip(original, loaded, strict=True))
            for lost in _lost(a, b, f"{path}[{i}]")
        ]
    return []


@pytest.fixture(params=support.DASHBOARD_FILES, ids=lambda p: p.stem)
def board(request: pytest.FixtureRequest) -> dict[str, Any]:
    path: Path = request.param
    return support.dashboard(path)


def test_foundation_sdk_loads_it_without_losing_a_key(board: dict[str, Any]) -> None:
    loaded = json.loads(json.dumps(Dashboard.from_json(board), cls=JSONEncoder))
    lost = _lost(board, loaded)
    options = [p for p in lost if re.fullmatch(r"\.annotations\.list\[\d+\]\.(\w+)", p)]
    assert {p.rsplit(".", 1)[1] for p in options} <= PROMETHEUS_ANNOTATION_OPTIONS
    assert [p for p in lost if p not in options] == []


def test_modern_panels_schema_version_datasource_variable_and_banner(
    board: dict[str, Any],
) -> None:
    assert board["schemaVersion"] == 39
    assert board["uid"].startswith("plexichat-")
    assert "DO NOT EDIT" in board["description"]
    assert "plexichat-obs generate" in board["description"]
    for panel in board["panels"]:
        assert panel["type"] in MODERN
        if panel["type"] == "row":  # a title over the panels below it, open, holding none
            assert panel["title"]
            assert (panel["collapsed"], panel["panels"]) == (False, [])
            assert (panel["gridPos"]["x"], panel["gridPos"]["w"]) == (0, 24)
            continue
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
        assert panel["description"]
        for target in panel.get("targets", []):
            assert target["datasource"] == {"type": "prometheus", "uid": "${datasource}"}


def test_panel_ids_unique_and_grid_inside_24_columns_without_overlap(
    board: dict[str, Any],
) -> None:
    ids = [panel["id"] for panel in board["panels"]]
    assert len(ids) == len(set(ids))
    taken: set[tuple[int, int]] = set()
    for panel in board["panels"]:
        grid = panel["gridPos"]
        assert grid["x"] >= 0
        assert grid["w"] > 0
        assert grid["x"] + grid["w"] <= 24
        cells = {
            (x, y)
            for x in range(grid["x"], grid["x"] + grid["w"])
            for y in range(grid["y"], grid["y"] + grid["h"])
        }
        assert not cells & taken, f"{panel['title']} overlaps another panel"
        taken |= cells


def test_every_variable_used_is_defined(board: dict[str, Any]) -> None:
    defined = {variable["name"] for variable in board["templating"]["list"]} | BUILTIN
    text = json.dumps(board)
    used = set(re.findall(r"\$\{?(\w+)", text))
    assert used - defined == set()
    assert {"datasource", "job", "instance"} <= defined


def test_uids_are_stable_and_distinct() -> None:
    uids = [support.dashboard(path)["uid"] for path in support.DASHBOARD_FILES]
    assert sorted(uids) == sorted(f"plexichat-{p.stem}" for p in support.DASHBOARD_FILES)


def test_latency_panels_show_exemplars_once_per_panel() -> None:
    """Every panel reading a latency histogram's buckets shows its exemplars (trace ids), from
    one query: several queries over the same buckets would repeat each exemplar."""
    latency = ("http_server_request_duration", "time_to_first_byte", "db_client_operation")
    found = 0
    for name in ("http.json", "database.json"):
        board = json.loads((support.DASHBOARDS / name).read_text())
        for panel in board["panels"]:
            exprs = [t for t in panel.get("targets", []) if "histogram_quantile" in t["expr"]]
            if exprs and any(s in exprs[0]["expr"] for s in latency):
                found += 1
                assert [t.get("exemplar", False) for t in exprs].count(True) == 1, panel["title"]
    assert found == 3  # response time, time to first byte, query time per operation


def test_every_instrument_is_on_the_dashboard_its_catalog_entry_names() -> None:
    """Each emitted family (every one is a catalog instrument, see test_catalog_conformance)
    is read by a query of its dashboard, the Overview's table aside."""
    shown: dict[str, set[str]] = {}
    for path in support.DASHBOARD_FILES:
        queries = support.dashboard_queries(support.dashboard(path))
        names = {name for _, expr in queries for name in support.series_names(expr)}
        shown[path.stem] = {name.removesuffix("_total") for name in names}
    missing = {
        instrument.name: instrument.dashboard
        for instrument in load_catalog().instruments
        if instrument.prometheus_name not in shown[instrument.dashboard]
    }
    assert missing == {}


def test_every_dashboard_links_the_others_and_marks_firing_alerts(board: dict[str, Any]) -> None:
    assert board["tags"][0] == "plexichat"
    (links,) = board["links"]
    assert (links["type"], links["tags"], links["keepTime"], links["includeVars"]) == (
        "dashboards",
        ["plexichat"],
        True,
        True,
    )
    firing, watched = board["annotations"]["list"]
    assert firing["expr"] == 'ALERTS{alertstate="firing", job=~"$job"}'
    assert firing["enable"] is watched["enable"] is True
    # What the second one marks: test_watched_dashboards.
    assert watched["name"] == "Stack and dependency alerts"


def test_overview_shows_the_table_at_a_glance() -> None:
    """One strip of the eight stats on top; right below, Stack healthy (linking to the Stack
    health and Dependencies dashboards) beside the alert list; trends after."""
    board = support.dashboard(support.DASHBOARDS / "overview.json")
    entries = list(load_catalog())
    stats = [p for p in board["panels"] if p["type"] == "stat" and p["gridPos"]["y"] == 0]
    assert [p["title"] for p in stats] == [e.guide_name for e in entries]
    assert sum(p["gridPos"]["w"] for p in stats) == 24
    stat_height = max(p["gridPos"]["h"] for p in stats)
    (healthy,) = [p for p in board["panels"] if p["type"] == "stat" and p not in stats]
    (alerts,) = [p for p in board["panels"] if p["type"] == "alertlist"]
    assert healthy["title"] == "Stack healthy"
    assert healthy["gridPos"]["y"] == alerts["gridPos"]["y"] == stat_height
    assert healthy["gridPos"]["w"] + alerts["gridPos"]["w"] == 24
    assert [link["url"].split("?")[0] for link in healthy["links"]] == [
        "/d/plexichat-stack_health",
        "/d/plexichat-dependencies",
    ]
    assert alerts["options"]["stateFilter"]["firing"] is True
    trends = [p for p in board["panels"] if p["type"] == "timeseries"]
    assert len(trends) == len(entries)
    assert min(p["gridPos"]["y"] for p in trends) == stat_height + alerts["gridPos"]["h"]
    for stat, entry in zip(stats, entries, strict=True):
        (link,) = stat["links"]
        assert link["url"].startswith(f"/d/plexichat-{entry.instrument.dashboard}?")


def _valued(board: dict[str, Any]) -> list[dict[str, Any]]:
    """The panels that draw values (all but the alert list and rows)."""
    return [panel for panel in board["panels"] if panel["type"] not in ("alertlist", "row")]


def test_every_panel_starts_at_zero_but_the_error_budget_left(board: dict[str, Any]) -> None:
    """Rates, ratios, counts, sizes and durations cannot be negative: their axis starts at 0,
    or Grafana pads its auto range below a quiet series (the negative error rate). Only an
    error budget left goes below 0 (overspent), so there the data sets the floor."""
    for panel in _valued(board):
        minimum = panel["fieldConfig"]["defaults"].get("min")
        if panel["title"].endswith("error budget left"):
            assert minimum is None
            assert panel["targets"][0]["expr"].startswith("1 - ")
        else:
            assert minimum == 0, panel["title"]


def test_thresholds_are_dashed_lines_not_the_axis_range(board: dict[str, Any]) -> None:
    """The data sets the top of every axis: no max or soft limit pinned to a threshold (a
    500 ms alert line would flatten 2 ms of latency); a gauge's range is its scale, 0 to 100 %
    for a ratio. A time series with thresholds draws them as dashed lines."""
    for panel in _valued(board):
        defaults = panel["fieldConfig"]["defaults"]
        custom = defaults.get("custom", {})
        assert {"axisSoftMin", "axisSoftMax"}.isdisjoint(custom), panel["title"]
        if panel["type"] in ("gauge", "bargauge"):
            assert defaults.get("max") == (1 if defaults["unit"] == "percentunit" else None)
        else:
            assert "max" not in defaults, panel["title"]
        if panel["type"] == "timeseries":
            lines = [s["value"] for s in defaults["thresholds"]["steps"] if s["value"] is not None]
            mode = custom["thresholdsStyle"]["mode"]
            assert mode == ("dashed" if lines else "off"), panel["title"]


def test_latency_panels_draw_their_thresholds() -> None:
    """The panels users read latency from against its targets keep their threshold lines."""
    http = {p["title"]: p for p in support.dashboard(support.DASHBOARDS / "http.json")["panels"]}
    for title in ("Response time p50 / p95 / p99", "Time to first byte p50 / p95 / p99"):
        defaults = http[title]["fieldConfig"]["defaults"]
        assert defaults["unit"] == "s"
        assert defaults["custom"]["thresholdsStyle"]["mode"] == "dashed"
        assert [s["value"] for s in defaults["thresholds"]["steps"]][1:]  # target, alert
