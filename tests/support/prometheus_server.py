"""A real Prometheus on a free loopback port scraping loopback targets every second, started and
stopped by PID, and the HTTP API calls the end-to-end tests make of it: instant queries and
exemplars, each empty while the server starts.

Its first scrape comes ~5 s after start (2.42 and 3.5 alike): wait for data, never sleep."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tests.support.processes import stop
from tests.support.tools import free_port
from tests.support.workers import wait_for

READY_WITHIN_S = 60
"""A timeout for hangs only: Prometheus is ready in about a second, a loaded CI host took longer
than the first query's patience."""


@contextmanager
def prometheus(
    binary: str,
    home: Path,
    targets: Mapping[str, int],
    features: Sequence[str] = (),
    job: Mapping[str, Any] | None = None,
) -> Iterator[str]:
    """Run ``binary`` (a ``require_tool`` path) with its configuration, TSDB and log under
    ``home``: one job per ``targets`` entry (job name: port on 127.0.0.1), each with the
    settings of ``job``, and ``--enable-feature`` for ``features``; yield its base URL."""
    home.mkdir(parents=True)
    config = {
        "global": {"scrape_interval": "1s"},
        "scrape_configs": [
            {
                "job_name": name,
                **(job or {}),
                "static_configs": [{"targets": [f"127.0.0.1:{port}"]}],
            }
            for name, port in targets.items()
        ],
    }
    (home / "prometheus.yml").write_text(yaml.safe_dump(config))
    port = free_port()
    flags = [f"--enable-feature={','.join(features)}"] if features else []
    with (home / "prometheus.log").open("wb") as log:
        process = subprocess.Popen(
            [
                binary,
                f"--config.file={home / 'prometheus.yml'}",
                f"--storage.tsdb.path={home / 'tsdb'}",
                f"--web.listen-address=127.0.0.1:{port}",
                *flags,
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(url, process, home / "prometheus.log")
        yield url
    finally:
        stop(process)


def _ready(url: str, process: subprocess.Popen[bytes], log: Path) -> bool:
    if process.poll() is not None:
        pytest.fail(f"Prometheus exited with {process.returncode}:\n{log.read_text()}")
    try:
        return httpx.get(f"{url}/-/ready", timeout=5).status_code == 200
    except httpx.TransportError:
        return False


def _wait_ready(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    """Until ``/-/ready`` answers 200 (listening, TSDB open): what a caller of the yielded URL
    may then ask is answered, however slowly a loaded machine starts it."""
    wait_for(lambda: _ready(url, process, log), READY_WITHIN_S, f"Prometheus at {url} to be ready")


def _data(api: str, path: str, params: dict[str, str]) -> Any:
    try:
        response = httpx.get(f"{api}{path}", params=params, timeout=5)
    except httpx.TransportError:
        return []  # still starting
    if response.status_code == 503:
        return []  # listening, storage not ready
    response.raise_for_status()
    return response.json()["data"]


def query(api: str, promql: str, at: float | None = None) -> list[dict[str, Any]]:
    """The instant query's result (at ``at``, Unix seconds; default now)."""
    params = {"query": promql}
    if at is not None:
        params["time"] = str(at)
    data = _data(api, "/api/v1/query", params)
    result: list[dict[str, Any]] = data["result"] if data else []
    return result


def exemplars(api: str, selector: str, start: float, end: float) -> list[dict[str, Any]]:
    """The exemplars stored between ``start`` and ``end`` on the series of ``selector``: one
    entry per series, its ``seriesLabels`` and ``exemplars`` (labels, value, timestamp)."""
    data: list[dict[str, Any]] = _data(
        api, "/api/v1/query_exemplars", {"query": selector, "start": str(start), "end": str(end)}
    )
    return data
