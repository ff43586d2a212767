"""The Dependencies and Stack health dashboards are the watched catalog drawn (a row per
source, a panel per ``panel`` name, a query per entry, the alert's threshold as a dashed line
where it says something), an optional source on a dashboard of its own; the Overview's
*Stack healthy* and Stack health's *Watchdog last seen* compute what they say (promtool)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
import yaml

from plexichat.catalog import CatalogError, WatchedEntry, load_watched
from plexichat.catalog.watched_loader import default_watched_path
from plexichat.generate import Options
from plexichat.generate.dashboards import DASHBOARDS, cache, source
from tests.generate import support
from tests.support.tools import promtool, requires_tool

BOARDS = {"dependency": "dependencies", "watcher": "stack_health"}
"""The dashboard of each kind of watched source."""
WITH_POSTGRES = Options().with_sources(frozenset({"postgres"}))


def _panels(board: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {panel["title"]: panel for panel in board["panels"]}


def _query(entry: WatchedEntry) -> str:
    return entry.query("$__rate_interval" if entry.window is not None else None)


def _exprs(board: dict[str, Any]) -> list[str]:
    return [t["expr"] for panel in board["panels"] for t in panel.get("targets", [])]


def _defaults(panel: dict[str, Any]) -> dict[str, Any]:
    defaults: dict[str, Any] = panel["fieldConfig"]["defaults"]
    return defaults


def _boards(options: Options) -> list[tuple[str, dict[str, Any], tuple[str, ...]]]:
    """``(kind, dashboard, jobs drawn)``: Dependencies and Stack health with the sources every
    target runs, then each optional source's own dashboard with its sources of each kind."""
    found = [(kind, DASHBOARDS[name](options), options.base_jobs) for kind, name in BOARDS.items()]
    for job in options.optional_jobs:
        kind = options.watched.source(job).kind
        found.append((kind, source.build(options, job), (job,)))
    return found


@pytest.mark.parametrize("options", [Options(), WITH_POSTGRES], ids=["default", "postgres"])
def test_every_drawn_entry_is_one_query_of_its_panel_under_its_source_s_row(
    options: Options,
) -> None:
    for kind, board, jobs in _boards(options):
        if jobs == options.base_jobs:
            name = BOARDS[kind]
            assert board == support.dashboard(support.DASHBOARDS / f"{name}.json")  # committed
        panels = _panels(board)
        entries = [e for e in options.watched.of(kind, jobs) if e.panel]
        assert entries, board["title"]
        for entry in entries:
            assert entry.panel is not None
            targets = panels[entry.panel]["targets"]
            assert (_query(entry), entry.legend) in [
                (t["expr"], t["legendFormat"]) for t in targets
            ]
        # Nothing else: one query per entry, the Redis hit ratio's own beside it aside.
        drawn = [p for p in board["panels"] if p["type"] == "timeseries"]
        beside = kind == "dependency" and "redis" in jobs
        assert sum(len(p["targets"]) for p in drawn) == len(entries) + beside
        # A row per source, in the file's order; each panel below the row of its first entry.
        sources = [s for s in options.watched.sources if s.job in jobs]
        rows = [p for p in board["panels"] if p["type"] == "row"]
        assert [r["title"] for r in rows] == [s.title for s in sources if s.kind == kind]
        for entry in entries:
            panel = panels[entry.panel or ""]
            above = [r for r in rows if r["gridPos"]["y"] < panel["gridPos"]["y"]][-1]
            first = next(e for e in entries if e.panel == entry.panel)
            assert above["title"] == first.source.title, entry.panel


def test_an_optional_source_is_drawn_on_its_own_dashboard_only() -> None:
    for options in (Options(), WITH_POSTGRES):
        shared = DASHBOARDS["dependencies"](options)
        assert "PostgreSQL" not in [p["title"] for p in shared["panels"] if p["type"] == "row"]
        assert not [expr for expr in _exprs(shared) if "pg_" in expr]
    own = source.build(WITH_POSTGRES, "postgres")
    assert (own["uid"], own["title"]) == ("plexichat-postgres", "PlexiChat / PostgreSQL")
    postgres = [e for e in WITH_POSTGRES.watched.of("dependency", ["postgres"]) if e.panel]
    assert {e.panel for e in postgres} <= set(_panels(own))
    assert all("pg_" in expr or "postgres" in expr for expr in _exprs(own))
    with pytest.raises(ValueError, match="not an optional source"):
        source.build(Options(), "postgres")
    # The shared stack-healthy stat asks about every source's alerts, PostgreSQL's too: it
    # cannot know whether a deployment runs it, and an alert never evaluated reads as healthy.
    for options in (Options(), WITH_POSTGRES):
        overview = DASHBOARDS["overview"](options)["panels"]
        (healthy,) = [p for p in overview if "Stack" in p["title"]]
        assert "PostgresDown" in healthy["targets"][0]["expr"]


@requires_tool("promtool")
def test_the_queries_generated_with_postgres_parse(tmp_path: Path) -> None:
    """The committed dashboards' queries are parsed in test_promql; this one is committed under
    optional/, which that test does not read."""
    exprs = [
        support.fill(expr)
        for board in (source.build(WITH_POSTGRES, "postgres"), DASHBOARDS["overview"](Options()))
        for expr in _exprs(board)
    ]
    rules = [{"record": f"check:parse:n{i}", "expr": e} for i, e in enumerate(exprs)]
    path = tmp_path / "parse.yaml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "parse", "rules": rules}]}))
    code, output = promtool("check", "rules", str(path))
    assert code == 0, output


def test_units_follow_the_catalog_s_value_units() -> None:
    panels = {
        **_panels(support.dashboard(support.DASHBOARDS / "dependencies.json")),
        **_panels(support.dashboard(support.DASHBOARDS / "stack_health.json")),
    }
    units = {t: _defaults(p).get("unit") for t, p in panels.items() if p["type"] != "row"}
    assert units["Redis memory against maxmemory"] == "bytes"
    assert units["Redis memory used of maxmemory"] == "percentunit"
    assert units["Redis hit ratio (server keyspace)"] == "percentunit"
    assert units["Redis commands per second"] == "ops"
    assert units["Redis clients against maxclients"] == "short"
    assert units["Redis up"] == "short"  # a state, 1 or 0: not 100 %
    assert units["Scrape duration"] == "s"
    assert units["Watchdog last seen"] == "s"
    # A second unit in one panel: errors in the window beside alerts per second.
    mixed = panels["Alerts sent by Prometheus, and errors"]
    assert units["Alerts sent by Prometheus, and errors"] == "ops"
    assert mixed["fieldConfig"]["overrides"] == [
        {
            "matcher": {"id": "byFrameRefID", "options": "B"},
            "properties": [{"id": "unit", "value": "short"}],
        }
    ]


def _line(panel: dict[str, Any]) -> tuple[list[float], str]:
    defaults = _defaults(panel)
    steps = [s["value"] for s in defaults["thresholds"]["steps"] if s["value"] is not None]
    return steps, defaults["custom"]["thresholdsStyle"]["mode"]


def test_an_alert_s_threshold_is_a_dashed_line_where_it_says_something() -> None:
    panels = {
        **_panels(DASHBOARDS["dependencies"](WITH_POSTGRES)),
        **_panels(source.build(WITH_POSTGRES, "postgres")),
    }
    assert _line(panels["Redis memory used of maxmemory"]) == ([0.9], "dashed")
    assert _line(panels["Redis clients of maxclients"]) == ([0.8], "dashed")
    assert _line(panels["PostgreSQL connections of max_connections"]) == ([0.8], "dashed")
    # red past the alert's value, green on the healthy side
    colours = [
        s["color"]
        for s in _defaults(panels["Redis memory used of maxmemory"])["thresholds"]["steps"]
    ]
    assert colours == ["green", "red"]
    # < 1 (down) and > 0 (any rejected connection, any deadlock): a line on the healthy value
    # or on the axis says nothing; the description still names the alert.
    for title in ("Redis up", "Redis rejected connections and evictions", "PostgreSQL deadlocks"):
        assert _line(panels[title]) == ([], "off"), title
    assert "RedisDown fires when Redis up < 1 up for 1m." in panels["Redis up"]["description"]


def _document() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(default_watched_path().read_text(encoding="utf-8"))
    return document


def _entry(document: dict[str, Any], entry_id: str) -> dict[str, Any]:
    return next(e for e in document["entries"] if e["id"] == entry_id)


def _options(tmp_path: Path, document: dict[str, Any], profile: str | None = None) -> Options:
    path = tmp_path / "watched.yaml"
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    return dataclasses.replace(Options(), profile=profile, watched=load_watched(path))


def test_the_line_follows_the_profile_and_leaves_with_its_alert(tmp_path: Path) -> None:
    document = _document()
    _entry(document, "redis_memory_ratio")["profiles"] = {
        "development": {"alert": {"value": 0.5}},
        "production": {"alert": None},
    }
    title = "Redis memory used of maxmemory"
    lines = {
        profile: _line(
            _panels(DASHBOARDS["dependencies"](_options(tmp_path, document, profile)))[title]
        )
        for profile in (None, "development", "production")
    }
    assert lines == {
        None: ([0.9], "dashed"),
        "development": ([0.5], "dashed"),
        "production": ([], "off"),
    }


def test_two_threshold_lines_in_one_panel_are_refused(tmp_path: Path) -> None:
    document = _document()
    _entry(document, "redis_clients_ratio")["panel"] = "Redis memory used of maxmemory"
    with pytest.raises(CatalogError, match="panel 'Redis memory used of maxmemory': alerts"):
        DASHBOARDS["dependencies"](_options(tmp_path, document))


def test_redis_hit_ratio_is_drawn_beside_the_service_s_redis_tier() -> None:
    """The Cache dashboard's per-tier hit ratio (the catalog's breakdown), of the Redis tier."""
    panel = _panels(support.dashboard(support.DASHBOARDS / "dependencies.json"))[
        "Redis hit ratio (server keyspace)"
    ]
    keyspace, ours = (t["expr"] for t in panel["targets"])
    assert "redis_keyspace_hits_total" in keyspace
    assert ours == cache.tier_hit_ratio(Options(), "$__rate_interval", "redis")
    per_tier = support.dashboard(support.DASHBOARDS / "cache.json")
    (tiers,) = [p for p in per_tier["panels"] if p["title"] == "Hit ratio per tier over time"]
    assert ours == tiers["targets"][0]["expr"].replace(
        '{cache_result="hit", ', '{cache_result="hit", cache_tier="redis", '
    ).replace("{ job=", '{ cache_tier="redis", job=').replace("[5m]", "[$__rate_interval]")


# --- what the stats compute, evaluated by promtool on synthetic ALERTS series --------------

WATCHDOG = 'ALERTS{alertname="Watchdog", alertstate="firing", job="prometheus"}'


def _stat(board: str, title: str) -> str:
    panel = _panels(support.dashboard(support.DASHBOARDS / f"{board}.json"))[title]
    expr: str = panel["targets"][0]["expr"]
    return expr


def _evaluate(tmp_path: Path, expr: str, series: dict[str, str], value: float | None) -> None:
    """``promtool test rules``: at 10m ``expr`` is one unlabelled sample ``value``, or empty."""
    samples = [] if value is None else [{"labels": "{}", "value": value}]
    test = {
        "rule_files": [],
        "tests": [
            {
                "interval": "1m",
                "input_series": [{"series": s, "values": v} for s, v in series.items()],
                "promql_expr_test": [{"expr": expr, "eval_time": "10m", "exp_samples": samples}],
            }
        ],
    }
    path = tmp_path / "test.yml"
    path.write_text(yaml.safe_dump(test), encoding="utf-8")
    code, output = promtool("test", "rules", str(path))
    assert code == 0, f"{series}: {output}"


@requires_tool("promtool")
def test_stack_healthy_is_one_only_with_the_watchdog_and_nothing_wrong(tmp_path: Path) -> None:
    expr = _stat("overview", "Stack healthy")
    assert expr == _stat("stack_health", "Stack healthy")

    def alert(name: str, state: str = "firing") -> str:
        return f'ALERTS{{alertname="{name}", alertstate="{state}", job="redis"}}'

    beat = {WATCHDOG: "1x10"}
    cases: list[tuple[dict[str, str], float]] = [
        (beat, 1),
        ({}, 0),  # no heartbeat: rule evaluation is not happening
        ({WATCHDOG: "1x9"}, 0),  # last evaluated a minute ago: evaluation has stopped
        ({WATCHDOG: "1x5"}, 0),  # ... 5 minutes ago, the series still in the lookback
        ({**beat, alert("RedisDown", "pending"): "1x10"}, 0),  # down, before its for:
        ({**beat, alert("RedisMemoryHigh"): "1x10"}, 0),
        ({**beat, alert("StackTargetDown"): "1x10"}, 0),
        ({**beat, alert("AlertmanagerNotificationsFailing"): "1x10"}, 0),
        # A failure that has not lasted its for: yet, and the service's own alerts: healthy.
        ({**beat, alert("PrometheusRuleEvaluationFailures", "pending"): "1x10"}, 1),
        ({**beat, alert("PlexichatErrorRateHigh"): "1x10"}, 1),
        ({**beat, alert("RedisMemoryHigh"): "1x5 stale"}, 1),  # resolved at 6m
    ]
    for series, value in cases:
        _evaluate(tmp_path, expr, series, value)


@requires_tool("promtool")
def test_watchdog_last_seen_is_the_age_of_its_last_evaluation(tmp_path: Path) -> None:
    expr = _stat("stack_health", "Watchdog last seen")
    _evaluate(tmp_path, expr, {WATCHDOG: "1x10"}, 0)  # evaluated at 10m
    _evaluate(tmp_path, expr, {WATCHDOG: "1x6"}, 240)  # last at 6m
    _evaluate(tmp_path, expr, {WATCHDOG: "1x3"}, None)  # beyond the 5-minute lookback


@requires_tool("promtool")
def test_every_dashboard_marks_the_stack_and_dependency_alerts_but_not_the_heartbeat(
    tmp_path: Path,
) -> None:
    """The ``$job`` annotation selects the service's jobs only; the second one marks an alert
    of any watched source (PostgreSQL's and the node's too) and never the Watchdog."""
    boards = [*support.DASHBOARD_FILES, *sorted(support.OPTIONAL.glob("*/dashboard.json"))]
    exprs = {
        name: expr
        for path in boards
        for name, expr in support.annotation_queries(support.dashboard(path))
    }
    assert set(exprs) == {"annotation Firing alerts", "annotation Stack and dependency alerts"}
    expr = exprs["annotation Stack and dependency alerts"]
    firing = 'ALERTS{{alertname="{}", alertstate="firing", job="{}", severity="{}"}}'
    for alert, job in (
        ("RedisDown", "redis"),
        ("PostgresDeadlocks", "postgres"),
        ("NodeFilesystemSpaceLow", "node"),
        ("AlertmanagerNotificationsFailing", "alertmanager"),
    ):
        series = {firing.format(alert, job, "critical"): "1x20"}
        _evaluate(tmp_path, f"count({expr})", series, 1)
    quiet = {
        firing.format("Watchdog", "prometheus", "none"): "1x20",
        firing.format("PlexichatErrorRateHigh", "plexichat", "critical"): "1x20",
        'ALERTS{alertname="RedisDown", alertstate="pending", job="redis"}': "1x20",
    }
    _evaluate(tmp_path, f"count({expr})", quiet, None)
