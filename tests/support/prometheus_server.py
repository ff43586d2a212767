"""A real Prometheus (2.42 here) scraping given loopback targets every second, on a free port,
its data and log under one directory; and an instant query that reads empty while it starts."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import yaml

from tests.support.processes import stop
from tests.support.tools import free_port, require_tool


@contextmanager
def prometheus(home: Path, targets: dict[str, int], features: str = "") -> Iterator[str]:
    """Prometheus scraping ``targets`` (job -> port) every second with ``features``
    (``--enable-feature``: ``native-histograms`` makes 2.42 scrape protobuf and store native
    histograms); its base URL. Stopped on exit."""
    home.mkdir(parents=True)
    config = {
        "global": {"scrape_interval": "1s"},
        "scrape_configs": [
            {"job_name": job, "static_configs": [{"targets": [f"127.0.0.1:{port}"]}]}
            for job, port in targets.items()
        ],
    }
    (home / "prometheus.yml").write_text(yaml.safe_dump(config))
    port = free_port()
    flags = [f"--enable-feature={features}"] if features else []
    with (home / "prometheus.log").open("wb") as log:
        process = subprocess.Popen(
            [
                require_tool("prometheus"),
                f"--config.file={home / 'prometheus.yml'}",
                f"--storage.tsdb.path={home / 'tsdb'}",
                f"--web.listen-address=127.0.0.1:{port}",
                *flags,
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(process)


def query(api: str, promql: str, at: float | None = None) -> list[dict[str, Any]]:
    """The instant query's result (at ``at``, Unix seconds; default now); empty while the
    server starts."""
    params: dict[str, str] = {"query": promql}
    if at is not None:
        params["time"] = str(at)
    try:
        response = httpx.get(f"{api}/api/v1/query", params=params, timeout=5)
    except httpx.TransportError:
        return []  # still starting
    if response.status_code == 503:
        return []  # listening, storage not ready
    result: list[dict[str, Any]] = response.json()["data"]["result"]
    return result
