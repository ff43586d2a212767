"""The real PlexiChat service, instrumented: catalog series after traffic, database spans."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from plexichat.catalog import load_catalog
from plexichat.config import load_settings
from plexichat.observability import MetricRegistry, installed_telemetry
from plexichat.service import create_app
from tests.support.otlp_receiver import HttpReceiver
from tests.support.scrape import families, samples, value
from tests.support.tools import promtool, require_tool


@pytest.fixture
async def client(tmp_path: Path, receiver: HttpReceiver) -> AsyncIterator[httpx.AsyncClient]:
    settings = load_settings(
        environ={},
        overrides={
            "service": {"data_dir": str(tmp_path)},
            "performance": {
                "observability": {
                    "otlp": {"endpoint": receiver.endpoint, "timeout_seconds": 1},
                    "tracing": {"sampler": "parentbased_always_on"},
                }
            },
        },
    )
    app = create_app(settings)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://t") as c,
    ):
        telemetry = installed_telemetry(app)
        assert telemetry is not None
        # A fresh registry would hide the service's business metrics; the service records
        # into the default one, so this test reads what a scrape of the process shows.
        assert isinstance(telemetry.registry, MetricRegistry)
        yield c


async def test_every_catalog_series_is_exposed_after_traffic(client: httpx.AsyncClient) -> None:
    # The service records into the process-wide registry: count from what is there already.
    before = (await client.get("/metrics")).text
    assert (await client.get("/api/users/1")).status_code == 200
    assert (await client.get("/api/users/1/posts")).status_code == 200
    assert (await client.get("/api/users/999999")).status_code == 404
    created = await client.post("/api/users", json={"username": "zed", "display_name": "Zed"})
    assert created.status_code == 201
    text = (await client.get("/metrics")).text
    exposed = {name for name, _, _ in samples(text)} | families(text)
    wanted = {series for entry in load_catalog().entries for series in entry.series}
    assert wanted - exposed == set()

    def grew(name: str, **labels: str) -> float:
        return value(text, name, **labels) - value(before, name, **labels)

    route = "/api/users/{user_id}"
    count = "http_server_request_duration_seconds_count"
    assert grew(count, http_route=route, http_response_status_code="404") == 1
    db = "db_client_operation_duration_seconds_count"
    assert grew(db, db_system_name="sqlite", db_operation_name="SELECT") >= 1  # the 404
    assert grew(db, db_system_name="sqlite", db_operation_name="INSERT") >= 1
    assert grew("plexichat_user_registrations_total") == 1
    assert grew("plexichat_api_calls_total") == 4


async def test_the_routes_time_their_operations(client: httpx.AsyncClient) -> None:
    """Each post written and each feed read is one ``plexichat.operation.duration`` event of
    its operation: what the Business dashboard's "Timed operations p95" reads."""
    before = (await client.get("/metrics")).text
    for title in ("first", "second"):
        created = await client.post("/api/posts", json={"user_id": 1, "title": title, "body": "b"})
        assert created.status_code == 201
    for _ in range(3):
        assert (await client.get("/api/posts/popular")).status_code == 200
    text = (await client.get("/metrics")).text
    count = "plexichat_operation_duration_seconds_count"
    grew = {
        op: value(text, count, operation=op) - value(before, count, operation=op)
        for op in ("post_create", "feed_read", "user_posts_read")
    }
    assert grew == {"post_create": 2, "feed_read": 3, "user_posts_read": 0}


def _spans_of(client: httpx.AsyncClient, receiver: HttpReceiver, route: str) -> list[Any]:
    """The spans exported after the request to ``route``: the server span first."""
    installed = installed_telemetry(client._transport.app)  # type: ignore[attr-defined]
    assert installed is not None
    assert installed.tracer is not None
    installed.tracer.exporter.shutdown(timeout=2)
    spans = receiver.received.spans()
    (server,) = [s for s in spans if s.name == route]
    return [server, *(s for s in spans if s is not server and s.trace_id == server.trace_id)]


def _children(spans: list[Any], parent: Any) -> list[Any]:
    return [s for s in spans if s.parent_span_id == parent.span_id]


async def test_database_spans_are_children_of_the_operation_span(
    client: httpx.AsyncClient, receiver: HttpReceiver
) -> None:
    """Request, then the timed operation (the timer's span), then its statements."""
    # limit=50 reads the 100-post listing, not warmed at start-up: a miss, so the database is
    # queried.
    assert (await client.get("/api/users/1/posts?limit=50")).status_code == 200
    server, *spans = _spans_of(client, receiver, "GET /api/users/{user_id}/posts")
    (operation,) = _children(spans, server)
    assert operation.name == "user_posts_read"
    statements = _children(spans, operation)
    assert statements
    assert {s.name for s in statements} <= {"SELECT sqlite", "BEGIN sqlite", "ROLLBACK sqlite"}


async def test_write_statements_are_children_of_the_operation_span(
    client: httpx.AsyncClient, receiver: HttpReceiver
) -> None:
    # the writer runs the INSERT in its batch, on its own task, in the request's context
    response = await client.post("/api/posts", json={"user_id": 1, "title": "t", "body": "b"})
    assert response.status_code == 201
    server, *spans = _spans_of(client, receiver, "POST /api/posts")
    (operation,) = _children(spans, server)
    assert operation.name == "post_create"
    assert "INSERT sqlite" in {s.name for s in _children(spans, operation)}


async def test_promtool_finds_nothing_wrong_with_the_service_exposition(
    client: httpx.AsyncClient,
) -> None:
    require_tool("promtool")
    await client.get("/api/posts/popular")
    await client.post("/api/users", json={"username": "ann", "display_name": "Ann"})
    text = (await client.get("/metrics")).text
    assert await asyncio.to_thread(promtool, "check", "metrics", stdin=text) == (0, "")
