"""Instrumented apps in multi-worker mode (``performance.observability.multiprocess_dir``).

Two apps in one process, each with its own registry, stand for two workers (their slots are
locked through separate open files, which conflict as between processes); real uvicorn and
gunicorn workers are in ``tests/e2e/test_multiworker.py``.
"""

from __future__ import annotations

from collections.abc import Iterator, MutableMapping
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI

from plexichat.observability import uninstrument_app
from plexichat.observability.metrics.directory import MultiprocessDirectory
from tests.support.asgi import call
from tests.support.items_app import items_app
from tests.support.scrape import value

DURATION = "http_server_request_duration_seconds_count"


def worker(directory: Path) -> FastAPI:
    return items_app({"multiprocess_dir": str(directory)})


async def start(app: FastAPI) -> None:
    """What the server does first in a worker: the ASGI lifespan startup."""
    messages = [{"type": "lifespan.startup"}]

    async def receive() -> dict[str, str]:
        return messages.pop(0) if messages else {"type": "lifespan.shutdown"}

    async def send(message: MutableMapping[str, Any]) -> None:
        pass

    await app({"type": "lifespan", "asgi": {"version": "3.0"}}, receive, send)


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[list[FastAPI]]:
    apps = [worker(tmp_path / "metrics"), worker(tmp_path / "metrics")]
    yield apps
    for app in apps:
        uninstrument_app(app)


async def scrape(app: FastAPI) -> str:
    status, body = await call(app, "GET", "/metrics")
    assert status == 200
    return body.decode()


async def test_every_worker_serves_the_instance_view(
    workers: list[FastAPI], tmp_path: Path
) -> None:
    a, b = workers
    for app in workers:
        await start(app)
    assert sorted(p.name for p in (tmp_path / "metrics").glob("slot-*.db")) == [
        "slot-0.db",
        "slot-1.db",
    ]
    for _ in range(3):
        await call(a, "GET", "/items/1")
    await call(b, "GET", "/items/2")
    for app in workers:
        text = await scrape(app)
        assert value(text, DURATION, http_route="/items/{item_id}") == 4
        assert value(text, "plexichat_process_workers") == 2
        # the same target identity whichever worker answers
        assert text.count("service_instance_id=") == 1
    ids = {
        line
        for t in [await scrape(a), await scrape(b)]
        for line in t.splitlines()
        if line.startswith("target_info")
    }
    assert len(ids) == 1


async def test_a_worker_without_lifespan_claims_its_slot_at_its_first_request(
    workers: list[FastAPI], tmp_path: Path
) -> None:
    a, b = workers  # a server started with --lifespan off: no startup event
    await call(a, "GET", "/items/1")
    assert [p.name for p in (tmp_path / "metrics").glob("slot-*.db")] == ["slot-0.db"]
    text = await scrape(b)  # b claims at its first scrape
    assert value(text, DURATION, http_route="/items/{item_id}") == 1
    assert value(text, "plexichat_process_workers") == 2


async def test_process_metrics_sum_the_live_workers(workers: list[FastAPI]) -> None:
    a, b = workers
    await start(a)
    one = value(await scrape(a), "process_memory_usage_bytes")
    assert value(await scrape(a), "plexichat_process_workers") == 1
    await start(b)
    two = value(await scrape(a), "process_memory_usage_bytes")
    # both workers are this one process here: the same RSS, counted once per worker
    assert two == pytest.approx(2 * one, rel=0.2)


def test_an_unusable_directory_is_an_error_naming_the_key(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(OSError, match=r"performance\.observability\.multiprocess_dir"):
        MultiprocessDirectory(blocker / "metrics")
