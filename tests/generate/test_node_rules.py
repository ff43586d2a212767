"""The Node rules and panels (node_exporter, optional): none in the shared files and for a
target that does not run it; with it, a rule file and a dashboard of its own
(``optional/node/``: promtool checks and unit-tests that file with the others,
promtool/node_test.yaml), and thresholds that follow the profile."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from plexichat.generate import Options, render
from plexichat.generate.dashboards import DASHBOARDS, source
from plexichat.generate.node import NODE_JOB
from plexichat.generate.stack import prometheus
from plexichat.generate.stack.targets import COMPOSE, HELM
from tests.generate import support

NODE_ALERTS = {"NodeExporterDown", "NodeMemoryAvailableLow", "NodeFilesystemSpaceLow"}


def _with_node(options: Options) -> Options:
    return options.with_sources(frozenset({NODE_JOB}))


def _alerts(options: Options, path: str = "optional/node/alerts.yaml") -> dict[str, Any]:
    text = render(options, Path("/nonexistent"))[path]
    return {r["alert"]: r for g in yaml.safe_load(text)["groups"] for r in g["rules"]}


def _titles(options: Options) -> list[str]:
    return [p["title"] for p in DASHBOARDS["dependencies"](options)["panels"]]


def test_no_target_without_node_exporter_has_a_node_rule_panel_or_job() -> None:
    for options in (Options(), _with_node(Options())):  # the shared file never has them
        assert not NODE_ALERTS & set(_alerts(options, "alerts/dependencies.yaml"))
    shared = {r.get("alert") for path in support.ALERTS.glob("*.yaml") for r in support.rules(path)}
    assert not shared & NODE_ALERTS  # the committed shared files
    assert "Node" not in _titles(Options())
    assert "node_exporter up" not in _titles(Options())
    jobs = [job["job_name"] for job in prometheus.config(HELM)["scrape_configs"]]
    assert NODE_JOB not in jobs  # the chart adds it from its values
    # Compose: job node finds its target only in the file docker-compose.node.yml mounts.
    (job,) = [j for j in prometheus.config(COMPOSE)["scrape_configs"] if j["job_name"] == NODE_JOB]
    assert job["file_sd_configs"] == [{"files": ["node.targets.yaml"]}]
    assert "static_configs" not in job
    assert prometheus.targets(NODE_JOB, "node-exporter:9100") == [
        {"targets": ["node-exporter:9100"]}
    ]


def test_with_node_exporter_the_node_dashboard_has_its_panels() -> None:
    titles = [p["title"] for p in source.build(_with_node(Options()), NODE_JOB)["panels"]]
    assert titles == [
        "Node",
        "node_exporter up",
        "Host CPU busy",
        "Host load per CPU",
        "Host memory available",
        "Filesystem space available",
    ]
    assert set(_alerts(Options())) == NODE_ALERTS


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
