"""``plexichat-obs up --native-histograms`` on the two Prometheus releases here, as the version
table (``plexichat.generate.stack.native_histograms``) says each stores them: Debian's 2.42
with the feature flag stores the service's duration histograms as native histograms only (no
classic series, a warning at start), forky's 3.5 (first on ``up``'s PATH) with the flag and
``always_scrape_classic_histograms`` stores both; on each, every recording rule has data.

Both stacks start first, then their checks wait side by side (time scale 0.01, a scrape a
second; about 15 s in all here)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from plexichat.catalog.model import JOB
from plexichat.generate.stack.native_histograms import for_release
from tests.generate import support
from tests.support.stack import Stack, wait_for
from tests.support.tools import require_tool, requires_tool, version

pytestmark = requires_tool(
    "redis-server",
    "prometheus-redis-exporter",
    "prometheus",
    "prometheus3",
    "prometheus-alertmanager",
)

ARGS = ["--native-histograms", "--traffic", "10", "--fault", "error_rate=0.2"]
ARGS += ["--time-scale", "0.01"]  # the fault: the error-rate records have 5xx to count
NATIVE = f'histogram_count(http_server_request_duration_seconds{{job="{JOB}"}})'
CLASSIC = f'http_server_request_duration_seconds_count{{job="{JOB}"}}'


@pytest.fixture(scope="module")
def stacks(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Stack]]:
    prometheus3 = Path(require_tool("prometheus3")).parent
    path = {"PATH": f"{prometheus3}{os.pathsep}{os.environ['PATH']}"}
    running: dict[str, Stack] = {}
    try:
        running["2"] = Stack(tmp_path_factory.mktemp("up2"), ARGS)
        running["3"] = Stack(tmp_path_factory.mktemp("up3"), ARGS, env=path)
        yield running
    finally:
        for stack in running.values():
            if stack.process.poll() is None:
                stack.stop()


def _features(stack: Stack) -> set[str]:
    response = httpx.get(f"{stack.state.prometheus_url}/api/v1/status/flags", timeout=10)
    response.raise_for_status()
    return set(response.json()["data"]["enable-feature"].split(","))


def _histogram_keys(stack: Stack) -> dict[str, object]:
    """The histogram settings of the service's job in the configuration ``up`` wrote."""
    config = yaml.safe_load(stack.config_file("prometheus").read_text())
    (job,) = (j for j in config["scrape_configs"] if j["job_name"] == JOB)
    return {k: v for k, v in job.items() if k.endswith("_histograms")}


def _records_without_data(stack: Stack) -> list[str]:
    return [r for r in sorted(support.records()) if not stack.prometheus.query(r)]


def test_prometheus_2_42_stores_only_native_histograms_and_the_rules_read_them(
    stacks: dict[str, Stack],
) -> None:
    stack = stacks["2"]
    assert stack.state.prometheus_version == "2.42.0"
    assert (stack.state.native_histograms, stack.state.classic_histograms) == (True, False)
    (warning,) = [line for line in stack.output.splitlines() if line.startswith("warning:")]
    assert "exemplars are not stored; the rules and dashboards read the native" in warning
    assert "classic series and exemplars are not stored" in stack.output  # the banner
    assert _features(stack) == {"exemplar-storage", "native-histograms"}
    assert _histogram_keys(stack) == {}  # 2.42 knows none of the keys
    wait_for(lambda: stack.prometheus.query(NATIVE), 60, "native request histograms")
    wait_for(lambda: not _records_without_data(stack), 60, "every record to have data")
    assert stack.prometheus.query(CLASSIC) == []  # what the warning says


def test_prometheus_3_stores_native_histograms_and_keeps_the_classic_series(
    stacks: dict[str, Stack],
) -> None:
    stack = stacks["3"]
    release = version("prometheus3")  # forky's floats: 3.5 to 3.7 need the flag, 3.8 does not
    row = for_release(release)
    assert stack.state.prometheus_version == ".".join(map(str, release))
    assert (stack.state.native_histograms, stack.state.classic_histograms) == (True, True)
    assert "warning:" not in stack.output
    assert "keeps their classic series and exemplars" in stack.output  # the banner
    assert ("native-histograms" in _features(stack)) is row.feature_flag
    assert _histogram_keys(stack) == {**row.job}
    assert _histogram_keys(stack)["always_scrape_classic_histograms"] is True
    wait_for(lambda: stack.prometheus.query(NATIVE), 60, "native request histograms")
    wait_for(lambda: stack.prometheus.query(CLASSIC), 60, "classic request series")
    wait_for(lambda: not _records_without_data(stack), 60, "every record to have data")
