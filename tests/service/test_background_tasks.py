"""The service's background work runs on its one task runner under ``background_tasks``: a
failing refresh is retried ``retry_attempts`` times, counted, and never costs a request its
answer or its read-your-writes.

Monitoring stays off (no ``/metrics``): the service records into the process-wide registry
either way, read back here through the data model. An instrumented app would create the HTTP
families there with the default series budget, which ``test_catalog_conformance`` sets small
to see them overflow."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import httpx
import pytest

from plexichat.config import Settings, load_settings
from plexichat.observability.metrics.registry import DEFAULT_REGISTRY
from plexichat.service import create_app
from plexichat.service.state import STATE_KEY, ServiceState
from tests.support.datamodel import Snapshot, number_values

FINISHED = "plexichat.background_tasks.finished"
RETRIES = "plexichat.background_tasks.retries"


def snapshot() -> Snapshot:
    """Every number point of the process-wide registry, by name and attributes."""
    return number_values(DEFAULT_REGISTRY)


def settings_for(tmp_path: Path, **extra: Any) -> Settings:
    """The service on ``tmp_path``, monitoring and rate limiting off; ``extra`` overrides
    (``performance`` merged into those two)."""
    performance = {"monitoring_enabled": False, "api": {"rate_limiting": {"enabled": False}}}
    performance.update(extra.pop("performance", {}))
    overrides = {"service": {"data_dir": str(tmp_path)}, "performance": performance, **extra}
    return load_settings(environ={}, overrides=overrides)


def value(points: Snapshot, name: str, **attributes: str) -> float:
    return points.get((name, tuple(sorted(attributes.items()))), 0.0)


async def test_failing_refreshes_are_retried_counted_and_reads_stay_fresh(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = settings_for(
        tmp_path,
        performance={"background_tasks": {"retry_attempts": 2, "retry_delay": 0}},
        # Every refresh and warm-up attempt fails; requests themselves get no fault.
        faults={"enabled": True, "task_failure_rate": 1.0},
    )
    app = create_app(settings)
    with caplog.at_level(logging.WARNING):
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://t") as client,
        ):
            state: ServiceState = getattr(app.state, STATE_KEY)
            tasks = state.cache.cache.tasks
            assert (await client.get("/api/users/1/posts")).status_code == 200  # cached now
            before = snapshot()
            posted = await client.post(
                "/api/posts", json={"user_id": 1, "title": "fresh", "body": "after a write"}
            )
            assert posted.status_code == 201
            await tasks.wait_idle()
            after = snapshot()
            listing = (await client.get("/api/users/1/posts")).json()

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    refresh = {"task.kind": "cache_refresh"}
    # Two listings refreshed after the post, each tried 1 + retry_attempts times.
    assert grew(FINISHED, **refresh, **{"task.outcome": "failed"}) == 2
    assert grew(FINISHED, **refresh, **{"task.outcome": "succeeded"}) == 0
    assert grew(RETRIES, **refresh) == 4
    assert value(after, "plexichat.background_tasks.running", **refresh) == 0
    assert listing[0]["id"] == posted.json()["id"]  # invalidated, so read from the database
    assert "background task 'cache_warm' failed after 3 attempt(s): starting with a cold cache" in (
        caplog.text
    )


async def test_without_faults_refreshes_succeed_and_the_next_read_is_a_hit(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    app = create_app(settings)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://t") as client,
    ):
        tasks = getattr(app.state, STATE_KEY).cache.cache.tasks
        before = snapshot()
        posted = await client.post("/api/posts", json={"user_id": 2, "title": "t", "body": "c"})
        assert posted.status_code == 201
        await tasks.wait_idle()
        middle = snapshot()
        listing = (await client.get("/api/users/2/posts")).json()
        after = snapshot()

    refresh = {"task.kind": "cache_refresh", "task.outcome": "succeeded"}
    assert value(middle, FINISHED, **refresh) - value(before, FINISHED, **refresh) == 2
    assert listing[0]["id"] == posted.json()["id"]
    hit = {"cache.result": "hit"}
    lookups = "plexichat.cache.lookups"
    assert value(after, lookups, **hit) - value(middle, lookups, **hit) == 1
