"""The Node rules and panels (node_exporter, optional): none for a target that does not run it,
the shipped files among them; with it, rules promtool accepts and that fire and stay silent as
the hand-written promtool tests (promtool/node/) say, a "Node" row on the Dependencies
dashboard, and thresholds that follow the profile."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import yaml

from plexichat.generate import Options, render
from plexichat.generate.dashboards import DASHBOARDS
from plexichat.generate.node import NODE_JOB
from plexichat.generate.stack import prometheus
from plexichat.generate.stack.targets import COMPOSE, COMPOSE_NODE, HELM
from tests.generate import support
from tests.support.tools import promtool, requires_tool

UNIT_TEST = Path(__file__).parent / "promtool" / "node" / "dependencies_test.yaml"
NODE_ALERTS = {"NodeExporterDown", "NodeMemoryAvailableLow", "NodeFilesystemSpaceLow"}


def _with_node(options: Options) -> Options:
    return options.with_sources(frozenset({NODE_JOB}))


def _alerts(options: Options) -> dict[str, dict[str, Any]]:
    text = render(options, Path("/nonexistent"))["alerts/dependencies.yaml"]
    return {r["alert"]: r for g in yaml.safe_load(text)["groups"] for r in g["rules"]}


def _titles(options: Options) -> list[str]:
    return [p["title"] for p in DASHBOARDS["dependencies"](options)["panels"]]


def test_no_target_without_node_exporter_has_a_node_rule_panel_or_job() -> None:
    assert not NODE_ALERTS & set(_alerts(Options()))
    assert not {r["alert"] for r in support.alerts()} & NODE_ALERTS  # the committed files
    assert "Node" not in _titles(Options())
    assert "node_exporter up" not in _titles(Options())
    for target in (COMPOSE, HELM):
        jobs = [job["job_name"] for job in prometheus.config(target)["scrape_configs"]]
        assert NODE_JOB not in jobs, target.name
    jobs = [job["job_name"] for job in prometheus.config(COMPOSE_NODE)["scrape_configs"]]
    assert jobs[-1] == NODE_JOB
    assert prometheus.config(COMPOSE_NODE)["scrape_configs"][-1]["static_configs"] == [
        {"targets": ["node-exporter:9100"]}
    ]


def test_with_node_exporter_the_dependencies_dashboard_has_a_node_row() -> None:
    titles = _titles(_with_node(Options()))
    row = titles.index("Node")
    assert titles[row + 1 : row + 6] == [
        "node_exporter up",
        "Host CPU busy",
        "Host load per CPU",
        "Host memory available",
        "Filesystem space available",
    ]


@requires_tool("promtool")
def test_the_node_rules_pass_promtool_and_its_unit_tests(tmp_path: Path) -> None:
    text = render(_with_node(Options()), Path("/nonexistent"))["alerts/dependencies.yaml"]
    (tmp_path / "dependencies.yaml").write_text(text, encoding="utf-8")
    code, output = promtool("check", "rules", str(tmp_path / "dependencies.yaml"))
    assert code == 0, output
    shutil.copy(UNIT_TEST, tmp_path / UNIT_TEST.name)
    code, output = promtool("test", "rules", UNIT_TEST.name, cwd=tmp_path)
    assert code == 0, output


def test_every_node_alert_has_a_firing_and_a_silent_promtool_case() -> None:
    assert set(_alerts(_with_node(Options()))) >= NODE_ALERTS
    firing: set[str] = set()
    silent: set[str] = set()
    for test in yaml.safe_load(UNIT_TEST.read_text(encoding="utf-8"))["tests"]:
        for case in test["alert_rule_test"]:
            (firing if case.get("exp_alerts") else silent).add(case["alertname"])
    assert firing == silent == NODE_ALERTS


def test_the_node_thresholds_follow_the_profile() -> None:
    guide = _alerts(_with_node(Options.for_profile(None)))
    development = _alerts(_with_node(Options.for_profile("development")))
    production = _alerts(_with_node(Options.for_profile("production")))
    for name in ("NodeMemoryAvailableLow", "NodeFilesystemSpaceLow"):
        assert guide[name]["expr"].endswith(") < 0.1"), name
        assert production[name]["expr"].endswith(") < 0.1"), name
        assert development[name]["expr"].endswith(") < 0.05"), name
    # Time-scaled like every other rule (up --time-scale).
    scaled = _alerts(_with_node(Options.for_profile(None)).scaled(0.01, 4.0))
    assert scaled["NodeFilesystemSpaceLow"]["for"] == "6s"
