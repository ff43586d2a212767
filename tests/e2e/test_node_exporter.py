"""The host watched, live: ``plexichat-obs up --node-exporter`` with Debian's node_exporter,
Prometheus and Alertmanager, time scale 0.01.

Checks, in order: up starts node_exporter (its components table shows it) with only the
collectors the Node entries read; Prometheus scrapes it as job ``node`` (``up == 1``), every
series the Node alerts and panels read (``node.SERIES``) is on the real exporter, every query
of the Node dashboard (``optional/node/dashboard.json``, what the bundles provision with it)
returns data,
and no Node alert fires on this healthy host while up loaded them all. Then node_exporter is
killed: up keeps running and ``NodeExporterDown`` fires. Without ``--node-exporter`` (the other
stacks' tests) there is no job ``node``: tests/e2e/test_dependencies.py.
"""

from __future__ import annotations

import functools
import signal
from collections.abc import Iterator

import httpx
import pytest

from plexichat.generate import Options, optional
from plexichat.generate.node import COLLECTORS, NODE_JOB, SERIES
from plexichat.generate.watchers import for_options
from tests.generate import support
from tests.support.stack import Stack, pid_alive, wait_for
from tests.support.tools import require_tool, requires_tool

pytestmark = requires_tool("prometheus-node-exporter")

JOB = f'job="{NODE_JOB}"'
WITH_NODE = Options.for_profile("development").with_sources(frozenset({NODE_JOB}))
"""What up generates with --node-exporter (its default profile)."""
NODE_ALERTS = {w.name for w in for_options("dependency", WITH_NODE, (NODE_JOB,))}


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    require_tool("prometheus-node-exporter")
    running = Stack(tmp_path_factory.mktemp("node"), ["--time-scale", "0.01", "--node-exporter"])
    try:
        yield running
    finally:
        if running.process.poll() is None:
            assert running.stop() == 0


def _node_queries() -> list[tuple[str, str]]:
    """(panel, PromQL) of the committed Node dashboard, as Grafana would run them."""
    path = support.ROOT / optional.DIRECTORY / NODE_JOB / optional.DASHBOARD
    board = support.dashboard(path)
    titles = {e.panel for e in WITH_NODE.watched.of("dependency", [NODE_JOB]) if e.panel}
    assert {p["title"] for p in board["panels"] if p["type"] != "row"} == titles
    return list(support.dashboard_queries(board))


def test_up_runs_node_exporter_with_only_the_collectors_read(stack: Stack) -> None:
    assert "node_exporter" in stack.output  # the components table
    pid = stack.state.components["node_exporter"].pid
    assert pid is not None
    assert stack.children()[pid][0].endswith("prometheus-node-exporter")
    url = stack.state.components["node_exporter"].url
    assert url is not None
    text = httpx.get(url, timeout=10).text
    ran = {
        line.split('collector="')[1].split('"')[0]
        for line in text.splitlines()
        if line.startswith("node_scrape_collector_success{")
    }
    assert ran == set(COLLECTORS)


def test_prometheus_scrapes_job_node_and_every_node_panel_has_data(stack: Stack) -> None:
    query = f"up{{{JOB}}} == 1"
    wait_for(functools.partial(stack.prometheus.query, query), 60, query)

    def missing() -> set[str]:
        return {name for name in SERIES if not stack.prometheus.query(f"count({name}{{{JOB}}})")}

    wait_for(lambda: not missing(), 30, f"the exporter's series {missing()}")
    queries = _node_queries()
    assert len(queries) >= 5

    def empty() -> list[str]:
        return [title for title, expr in queries if not stack.prometheus.query(expr)]

    wait_for(lambda: not empty(), 60, f"data for the Node panels {empty()}")
    # The filesystem holding Prometheus' data is among those watched.
    (filesystem,) = [e for t, e in queries if t == "Filesystem space available"]
    mountpoints = {s.labels["mountpoint"] for s in stack.prometheus.query(filesystem)}
    assert "/" in mountpoints, mountpoints


def test_up_loads_the_node_alerts_and_none_fires_on_a_healthy_host(stack: Stack) -> None:
    assert {"NodeExporterDown", "NodeMemoryAvailableLow", "NodeFilesystemSpaceLow"} == NODE_ALERTS
    rules = httpx.get(f"{stack.state.prometheus_url}/api/v1/rules", timeout=10).json()
    loaded = {r["name"] for g in rules["data"]["groups"] for r in g["rules"]}
    assert loaded >= NODE_ALERTS
    query = f"up{{{JOB}}} == 1"
    wait_for(functools.partial(stack.prometheus.query, query), 60, query)
    active = [a for a in stack.prometheus.alerts() if a["labels"]["alertname"] in NODE_ALERTS]
    assert active == []


def test_killing_node_exporter_fires_node_exporter_down_and_up_keeps_running(
    stack: Stack,
) -> None:
    pid = stack.state.components["node_exporter"].pid
    assert pid is not None
    stack.signal_component("node_exporter", signal.SIGKILL)
    wait_for(lambda: not pid_alive(pid), 30, "node_exporter gone")

    def firing() -> bool:
        return any(a["state"] == "firing" for a in stack.alerts("NodeExporterDown"))

    wait_for(firing, 90, "NodeExporterDown firing in Prometheus")
    assert stack.process.poll() is None, stack.output
    assert "the host is unwatched" in stack.output
