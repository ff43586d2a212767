"""Both bundles' Prometheus flags, given to a real Prometheus 3 (Debian forky's; the images pin
3.14): it starts, and its runtime info reports the retention the bundle means (time and size,
whichever comes first)."""

from __future__ import annotations

import json
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from tests.deploy.chart import objects, one, render
from tests.deploy.compose import document
from tests.support.processes import stop
from tests.support.tools import free_port, require_tool, requires_tool


def _retention(args: list[str], tmp_path: Path) -> str:
    """Run Prometheus with ``args`` (config and storage moved under ``tmp_path``); return the
    storageRetention of /api/v1/status/runtimeinfo."""
    config = tmp_path / "prometheus.yml"
    config.write_text("global:\n  scrape_interval: 15s\n")
    moved = [
        f"--config.file={config}"
        if arg.startswith("--config.file=")
        else f"--storage.tsdb.path={tmp_path / 'tsdb'}"
        if arg.startswith("--storage.tsdb.path=")
        else arg
        for arg in args
    ]
    port = free_port()
    process = subprocess.Popen(
        [require_tool("prometheus3"), *moved, f"--web.listen-address=127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if process.poll() is not None:
                stderr = process.stderr.read().decode() if process.stderr else ""
                raise AssertionError(f"prometheus refused {moved}: {stderr[-500:]}")
            try:
                url = f"http://127.0.0.1:{port}/api/v1/status/runtimeinfo"
                with urllib.request.urlopen(url, timeout=1) as response:
                    retention: str = json.load(response)["data"]["storageRetention"]
                    return retention
            except OSError:
                time.sleep(0.1)
        raise AssertionError("prometheus did not answer")
    finally:
        stop(process)
        if process.stderr:
            process.stderr.close()


@requires_tool("prometheus3")
def test_compose_prometheus_keeps_30_days_or_the_size_cap(tmp_path: Path) -> None:
    args = document()["services"]["prometheus"]["command"]
    assert _retention(args, tmp_path) == "30d or 10GiB"


@requires_tool("prometheus3")
@pytest.mark.parametrize(
    ("values", "expected"),
    [({}, "30d or 6GiB819MiB"), ({"prometheus": {"retentionSize": "512MB"}}, "30d or 512MiB")],
)
def test_chart_prometheus_keeps_30_days_or_the_size_cap(
    values: dict[str, object], expected: str, tmp_path: Path
) -> None:
    deployment = one(objects(render(values)), "Deployment", "prometheus")
    args = deployment["spec"]["template"]["spec"]["containers"][0]["args"]
    assert _retention(args, tmp_path) == expected
