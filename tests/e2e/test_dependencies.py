"""Redis watched, live: ``plexichat-obs up`` (real Redis, redis_exporter, Prometheus and
Alertmanager, the shipped configuration for the ``up`` target, time scale 0.01).

Checks: up starts redis_exporter (its components table shows it), Prometheus scrapes it as job
``redis`` and it reaches Redis (``redis_up == 1``); every series the dependency alerts read
(``dependencies.SERIES``) is on the real exporter; no dependency alert fires on a healthy stack.
Redis' maxmemory set just above what it uses fires ``RedisMemoryHigh`` (and no maxmemory again
resolves it); a maxclients Redis has already reached rejects connections and
``RedisRejectedConnections`` goes pending or fires, as ``RedisClientsNearMax`` does with one
connection left. The service uses SQLite here: no postgres_exporter runs and Prometheus has no job
``postgres`` (nor ``node``: no --node-exporter). Then Redis is killed: the exporter reports
``redis_up 0`` (it does not crash), ``RedisDown`` goes pending and fires in Prometheus, up keeps
running, and the service keeps answering the cached feed (its cache falls back to the memory tier:
degraded, not failed).
"""

from __future__ import annotations

import contextlib
import functools
import signal
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis
import yaml

from plexichat.generate.dependencies import DEPENDENCIES, REDIS_JOB, SERIES
from plexichat.generate.node import NODE_JOB
from plexichat.generate.postgres import POSTGRES_JOB
from tests.support.stack import Stack, wait_for

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    running = Stack(tmp_path_factory.mktemp("dependencies"), ["--time-scale", "0.01"])
    try:
        yield running
    finally:
        if running.process.poll() is None:
            assert running.stop() == 0


def test_up_runs_redis_exporter_and_prometheus_scrapes_it(stack: Stack) -> None:
    assert "redis_exporter" in stack.state.components
    assert "redis_exporter" in stack.output  # the components table
    for query in (f'up{{job="{REDIS_JOB}"}} == 1', f'redis_up{{job="{REDIS_JOB}"}} == 1'):
        wait_for(functools.partial(stack.prometheus.query, query), 60, query)

    def missing() -> set[str]:
        return {name for name in SERIES if not stack.prometheus.query(f"count({name})")}

    wait_for(lambda: not missing(), 30, f"the exporter's series {missing()}")
    names = {d.name for d in DEPENDENCIES}
    firing = [a for a in stack.prometheus.alerts() if a["labels"]["alertname"] in names]
    assert firing == []


def test_without_postgresql_there_is_no_postgres_exporter_and_no_job(stack: Stack) -> None:
    assert "postgres_exporter" not in stack.state.components
    assert "postgres_exporter" not in stack.output
    programs = [Path(argv[0]).name for argv in stack.children().values()]
    assert "prometheus-redis-exporter" in programs, programs  # the helper sees them
    assert not [p for p in programs if "postgres" in p], programs
    config = httpx.get(f"{stack.state.prometheus_url}/api/v1/status/config", timeout=10)
    jobs = [
        job["job_name"] for job in yaml.safe_load(config.json()["data"]["yaml"])["scrape_configs"]
    ]
    assert REDIS_JOB in jobs
    assert POSTGRES_JOB not in jobs
    assert NODE_JOB not in jobs  # node_exporter only with up --node-exporter
    assert "node_exporter" not in stack.state.components
    assert not stack.prometheus.query(f'up{{job="{POSTGRES_JOB}"}}')
    rules = httpx.get(f"{stack.state.prometheus_url}/api/v1/rules", timeout=10).json()
    loaded = {r["name"] for g in rules["data"]["groups"] for r in g["rules"]}
    assert "RedisDown" in loaded
    assert not {name for name in loaded if name.startswith(("Postgres", "Node"))}, loaded


def _redis(stack: Stack) -> redis.Redis:
    url = stack.state.components["redis"].url
    assert url is not None
    return redis.Redis.from_url(url, socket_timeout=5)


def _state(stack: Stack, name: str) -> set[str]:
    return {a["state"] for a in stack.alerts(name)}


def test_redis_near_its_maxmemory_fires_redis_memory_high(stack: Stack) -> None:
    client = _redis(stack)
    try:
        used = int(client.info("memory")["used_memory"])
        client.config_set("maxmemory", str(int(used * 1.03)))  # ~97 % used
        wait_for(lambda: "firing" in _state(stack, "RedisMemoryHigh"), 60, "RedisMemoryHigh")
        (alert,) = stack.alerts("RedisMemoryHigh")
        assert alert["labels"]["severity"] == "warning"
        assert float(alert["value"]) > 0.9
    finally:
        client.config_set("maxmemory", "0")  # none: the ratio means nothing, the alert ends
    wait_for(lambda: not stack.alerts("RedisMemoryHigh"), 60, "RedisMemoryHigh to end")
    client.close()


def test_redis_near_its_maxclients_fires_redis_clients_near_max(stack: Stack) -> None:
    client = _redis(stack)
    try:
        connected = int(client.info("clients")["connected_clients"])
        # Room for one more: the exporter's, which then sees maxclients all taken.
        client.config_set("maxclients", str(connected + 1))
        wait_for(
            lambda: _state(stack, "RedisClientsNearMax") & {"pending", "firing"},
            60,
            "RedisClientsNearMax",
        )
    finally:
        client.config_set("maxclients", "10000")
    wait_for(lambda: not stack.alerts("RedisClientsNearMax"), 60, "RedisClientsNearMax to end")
    client.close()


def _rejected(port: int) -> bool:
    """Open a connection and PING: whether Redis refused it (max number of clients)."""
    with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
        sock.sendall(b"PING\r\n")
        return b"max number of clients" in sock.recv(256)


def test_redis_at_maxclients_fires_redis_rejected_connections(stack: Stack) -> None:
    client = _redis(stack)
    port = int(client.connection_pool.connection_kwargs["port"])
    before = int(client.info("stats")["rejected_connections"])
    seen: set[str] = set()
    try:
        client.config_set("maxclients", "1")  # this connection and the service's are over it
        deadline = time.monotonic() + 60
        while "firing" not in seen and time.monotonic() < deadline:
            # Rejections for a few seconds, then Redis open again so the exporter reads them.
            client.config_set("maxclients", "1")
            stop = time.monotonic() + 2
            while time.monotonic() < stop:
                with contextlib.suppress(OSError):
                    _rejected(port)
                time.sleep(0.05)
            client.config_set("maxclients", "10000")
            stop = time.monotonic() + 3
            while time.monotonic() < stop and "firing" not in seen:
                with contextlib.suppress(httpx.HTTPError):
                    seen |= _state(stack, "RedisRejectedConnections")
                time.sleep(0.3)
    finally:
        client.config_set("maxclients", "10000")
    assert int(client.info("stats")["rejected_connections"]) > before
    assert seen & {"pending", "firing"}, "RedisRejectedConnections never went pending"
    client.close()


def test_killing_redis_fires_redis_down_and_the_service_keeps_answering(stack: Stack) -> None:
    feed = f"{stack.state.service_url}/api/posts/popular"
    assert httpx.get(feed, timeout=10).status_code == 200
    stack.signal_component("redis", signal.SIGKILL)
    query = f'redis_up{{job="{REDIS_JOB}"}} == 0'
    wait_for(functools.partial(stack.prometheus.query, query), 60, query)
    # The exporter survives its target's death: still scraped.
    assert stack.prometheus.query(f'up{{job="{REDIS_JOB}"}} == 1')
    states: set[str] = set()

    def fired() -> bool:
        states.update(a["state"] for a in stack.alerts("RedisDown"))
        return "firing" in states

    wait_for(fired, 90, "RedisDown to fire in Prometheus")
    (alert,) = stack.alerts("RedisDown")
    assert alert["labels"]["severity"] == "critical"
    assert alert["labels"]["job"] == REDIS_JOB
    assert stack.process.poll() is None, stack.output  # up survives Redis
    assert "the stack keeps running" in stack.output
    for _ in range(5):
        assert httpx.get(feed, timeout=10).status_code == 200
    assert httpx.get(f"{stack.state.service_url}/healthz", timeout=10).status_code == 200
