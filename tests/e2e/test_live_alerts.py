"""The generated rules and dashboards against the real thing: ``plexichat-obs serve`` under
``plexichat-obs loadgen``, scraped by a real Prometheus (1 s scrape and evaluation) that loads
the generated rule files.

Checks, in one run of ~45 s: the service exposes every series the dashboards and rules read
(except the named ``NOT_YET_EMITTED``), every recording rule produces series, a healthy
service's error-rate panel reads 0 (not "No data"), a forced error burst (fault injection on
``/api/fault/*``, a path only this test calls) takes the error-rate alert from pending to firing
and, once it stops, back to inactive, and afterwards every dashboard query returns data.

Test-only override, so that this fits in seconds: ``PlexichatErrorRateHigh`` keeps its
generated expression and threshold but reads a 10s window instead of 5m and has ``for: 3s``
instead of 5m. Everything else is loaded exactly as generated.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tests.generate import support
from tests.generate.test_promql import NOT_YET_EMITTED, read_series
from tests.support.processes import stop
from tests.support.redis_server import RedisServer
from tests.support.scrape import samples
from tests.support.service import service_environment
from tests.support.tools import free_port, require_tool

pytestmark = pytest.mark.integration

ALERT = "PlexichatErrorRateHigh"
FAULTS = "error_rate=1.0,routes=/api/fault/*"


def _wait(predicate: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            result = predicate()
            if result:
                return result
        time.sleep(0.25)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")


@contextlib.contextmanager
def _process(args: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as out:
        proc = subprocess.Popen(args, env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            yield proc
        finally:
            stop(proc)


def _rules_with_test_override(target: Path) -> None:
    target.mkdir()
    for path in support.RULE_FILES:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
        for group in document["groups"]:
            for rule in group["rules"]:
                if rule.get("alert") == ALERT:
                    assert "[5m]" in rule["expr"]
                    rule["expr"] = rule["expr"].replace("[5m]", "[10s]")
                    rule["for"] = "3s"
        (target / support.loaded_name(path)).write_text(yaml.safe_dump(document))


class Prometheus:
    def __init__(self, url: str) -> None:
        self.client = httpx.Client(base_url=url, timeout=5)

    def query(self, expr: str) -> list[dict[str, Any]]:
        response = self.client.get("/api/v1/query", params={"query": expr})
        body = response.json()
        assert body["status"] == "success", (expr, body)
        result: list[dict[str, Any]] = body["data"]["result"]
        return result

    def alert_states(self, name: str) -> set[str]:
        alerts = self.client.get("/api/v1/alerts").json()["data"]["alerts"]
        return {a["state"] for a in alerts if a["labels"]["alertname"] == name}


def _drive(url: str, stop: threading.Event, path: str, rps: float) -> None:
    with httpx.Client(base_url=url, timeout=5) as client:
        while not stop.is_set():
            with contextlib.suppress(httpx.HTTPError):
                client.get(path)
            time.sleep(1 / rps)


def test_live_prometheus_with_generated_rules(tmp_path: Path, redis_server: RedisServer) -> None:
    prometheus_bin = require_tool("prometheus")
    service_port, prometheus_port = free_port(), free_port()
    service_url = f"http://127.0.0.1:{service_port}"
    env = service_environment(
        tmp_path,
        {
            "PLEXICHAT_PERFORMANCE__METRICS_COLLECTION_INTERVAL": "1",
            # The Redis tier, as the production profile runs it (its breaker is on a dashboard).
            "PLEXICHAT_PERFORMANCE__CACHING__REDIS_CACHE__ENABLED": "true",
            "PLEXICHAT_PERFORMANCE__CACHING__REDIS_CACHE__HOST": "127.0.0.1",
            "PLEXICHAT_PERFORMANCE__CACHING__REDIS_CACHE__PORT": str(redis_server.port),
            # The demo data's listings are under the default 1 KiB: compress smaller ones.
            "PLEXICHAT_PERFORMANCE__LATENCY_OPTIMIZER__COMPRESSION__MIN_SIZE": "256B",
            # One client sends everything here; per-client rate limiting would answer 429.
            "PLEXICHAT_PERFORMANCE__API__RATE_LIMITING__ENABLED": "false",
        },
    )
    _rules_with_test_override(tmp_path / "rules")
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(tmp_path / "rules" / "*.yaml")],
        "scrape_configs": [
            {
                "job_name": "plexichat",
                "static_configs": [{"targets": [f"127.0.0.1:{service_port}"]}],
            }
        ],
    }
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(config))
    serve = [sys.executable, "-m", "plexichat.cli", "serve", "--port", str(service_port)]
    loadgen = [sys.executable, "-m", "plexichat.cli", "loadgen", "--url", service_url]
    with (
        _process([*serve, "--fault", FAULTS, "--log-level", "warning"], env, tmp_path / "s.log"),
        _process(
            [
                prometheus_bin,
                f"--config.file={tmp_path / 'prometheus.yml'}",
                f"--storage.tsdb.path={tmp_path / 'tsdb'}",
                f"--web.listen-address=127.0.0.1:{prometheus_port}",
            ],
            env,
            tmp_path / "prometheus.log",
        ),
    ):
        _wait(lambda: httpx.get(f"{service_url}/readyz").status_code == 200, 30, "the service")
        prom = Prometheus(f"http://127.0.0.1:{prometheus_port}")
        load = subprocess.Popen(
            [*loadgen, "--duration", "40", "--rps", "40", "--users", "10", "--json"],
            env=env,
            stdout=subprocess.DEVNULL,
        )
        try:
            _exercise(prom, service_url)
        finally:
            prom.client.close()
            stop(load)


def _exercise(prom: Prometheus, service_url: str) -> None:
    # Healthy: traffic flows, no 5xx. The error-rate panel reads 0, not "No data".
    error_rate = next(
        expr
        for title, expr in support.dashboard_queries(
            support.dashboard(support.DASHBOARDS / "http.json")
        )
        if title == "Error rate (5xx share)"
    )
    _wait(lambda: len(prom.query('up{job="plexichat"} == 1')) == 1, 20, "the first scrape")
    healthy = _wait(lambda: prom.query(error_rate), 20, "an error-rate sample")
    assert float(healthy[0]["value"][1]) == 0.0

    # Every recording rule produces series.
    def recorded_all() -> list[str]:
        return [record for record in sorted(support.records()) if not prom.query(record)]

    _wait(lambda: not recorded_all(), 20, f"recorded series {recorded_all()}")
    assert prom.alert_states(ALERT) == set()

    # The service exposes every series the artifacts read, except the named not-yet-emitted.
    exposed = {name for name, _, _ in samples(httpx.get(f"{service_url}/metrics").text)}
    exposed_bases = {_base(name) for name in exposed}
    wanted = {_base(n) for n in read_series()}
    assert wanted - exposed_bases - {_base(n) for n in NOT_YET_EMITTED} == set()
    emitted_now = {_base(n) for n in NOT_YET_EMITTED} & exposed_bases
    assert emitted_now == set(), f"now exposed, remove from NOT_YET_EMITTED: {emitted_now}"

    # A forced error burst: the alert goes pending, then firing; it resolves after the burst.
    stop = threading.Event()
    burst = threading.Thread(target=_drive, args=(service_url, stop, "/api/fault/burst", 80))
    burst.start()
    try:
        _wait(lambda: "pending" in prom.alert_states(ALERT), 20, "the alert to go pending")
        _wait(lambda: "firing" in prom.alert_states(ALERT), 20, "the alert to fire")
    finally:
        stop.set()
        burst.join()
    _wait(lambda: prom.alert_states(ALERT) == set(), 30, "the alert to resolve")

    # A client that accepts gzip (httpx does, as browsers do) gets listings compressed.
    with httpx.Client(base_url=service_url) as client:
        for _ in range(5):
            listing = client.get("/api/users/1/posts?limit=50")
            assert listing.headers.get("content-encoding") == "gzip", listing.headers
    _wait(lambda: prom.query(GZIP_RATIO), 10, "compressed responses")

    # Every dashboard query of the service returns data. The Dependencies and Stack health
    # dashboards read Redis' exporter, Prometheus and Alertmanager, which this test does not
    # run: tests/e2e/test_up_stack.py holds their queries to data on up's whole stack.
    empty = [
        (path.stem, title)
        for path in support.DASHBOARD_FILES
        if path.stem not in WATCHED_DASHBOARDS
        for title, expr in support.dashboard_queries(support.dashboard(path))
        if not {_base(n) for n in support.series_names(expr)} & NOT_YET_EMITTED
        and not prom.query(expr)
    ]
    assert empty == []


WATCHED_DASHBOARDS = {"dependencies", "stack_health"}
GZIP_RATIO = "sum(rate(plexichat_http_server_compression_input_bytes_total[1m])) > 0"


def _base(name: str) -> str:
    for suffix in ("_bucket", "_sum", "_count", "_total", "_created"):
        name = name.removesuffix(suffix)
    return name
