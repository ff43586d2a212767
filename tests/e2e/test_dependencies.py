"""Redis watched, live: ``plexichat-obs up`` (real Redis, redis_exporter, Prometheus and
Alertmanager, the shipped configuration for the ``up`` target, time scale 0.01).

Checks: up starts redis_exporter (its components table shows it), Prometheus scrapes it as job
``redis`` and it reaches Redis (``redis_up == 1``); every series the dependency alerts read
(``dependencies.SERIES``) is on the real exporter; no dependency alert fires on a healthy
stack. Then Redis is killed: the exporter reports ``redis_up 0`` (it does not crash),
``RedisDown`` goes pending and fires in Prometheus, up keeps running, and the service keeps
answering the cached feed (its cache falls back to the memory tier: degraded, not failed).
"""

from __future__ import annotations

import functools
import signal
from collections.abc import Iterator

import httpx
import pytest

from plexichat.generate.dependencies import DEPENDENCIES, REDIS_JOB, SERIES
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
