"""The `helm test` script, run for real: against the PlexiChat service and a Prometheus that
loaded the chart's rendered configuration and rule files (both on loopback ports)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator

import pytest

from tests.deploy.chart import CHART, objects, prometheus_config_dir, render
from tests.support.newer_keys import readable
from tests.support.processes import stop
from tests.support.service import serving
from tests.support.tools import free_port, require_tool, requires_tool

pytestmark = requires_tool("prometheus3")
SCRIPT = CHART / "files" / "helm-test.py"


def _wait_for(url: str, process: subprocess.Popen[bytes], seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert process.poll() is None, f"{process.args!r} exited with {process.returncode}"
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"{url} did not answer in {seconds} s")


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with serving(tmp_path_factory.mktemp("service")) as served:
        yield served.url


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """A Prometheus 3 (forky's: the image's major) on the chart's rendered config; yields
    (URL, EXPECTED_RULE_GROUPS)."""
    binary = require_tool("prometheus3")
    # No cluster to discover pods in: the static target exercises the rest.
    rendered = render({"prometheus": {"discovery": "static"}})
    objs = objects(rendered)
    config = prometheus_config_dir(objs, tmp_path_factory.mktemp("etc-prometheus"))
    features = readable(config, "prometheus3")
    test_pod = next(o for o in objs if o["kind"] == "Pod")
    env = {e["name"]: e["value"] for e in test_pod["spec"]["containers"][0]["env"]}
    port = free_port()
    process = subprocess.Popen(
        [
            binary,
            f"--config.file={config}",
            f"--storage.tsdb.path={tmp_path_factory.mktemp('tsdb')}",
            f"--web.listen-address=127.0.0.1:{port}",
            *(f"--enable-feature={feature}" for feature in features),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_for(url + "/-/ready", process)
        yield url, env["EXPECTED_RULE_GROUPS"]
    finally:
        stop(process)


def _run_script(**env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT)],
        env={"PATH": os.environ["PATH"], **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_helm_test_passes_on_a_healthy_stack(service: str, prometheus: tuple[str, str]) -> None:
    url, groups = prometheus
    assert groups, "the chart expects no rule groups"
    result = _run_script(SERVICE_URL=service, PROMETHEUS_URL=url, EXPECTED_RULE_GROUPS=groups)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"Prometheus rule groups loaded: {len(groups.split(','))}" in result.stdout


def test_helm_test_fails_when_a_rule_group_is_missing(
    service: str, prometheus: tuple[str, str]
) -> None:
    url, groups = prometheus
    result = _run_script(
        SERVICE_URL=service,
        PROMETHEUS_URL=url,
        EXPECTED_RULE_GROUPS=groups + ",plexichat-not-loaded",
        RULES_WAIT_SECONDS="0",
    )
    assert result.returncode != 0
    assert "plexichat-not-loaded" in result.stderr


def test_helm_test_fails_when_the_service_is_down() -> None:
    result = _run_script(SERVICE_URL=f"http://127.0.0.1:{free_port()}")
    assert result.returncode != 0
