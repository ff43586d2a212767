"""The app as a whole: seeding, probes, OpenAPI, FastAPI's own telemetry off, /metrics."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest
from fastapi import FastAPI
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from sqlalchemy import func, select

from plexichat.service import create_app
from plexichat.service.db_engine import Database, PoolSettings, create_engine
from plexichat.service.models import Comment, Message, Post, User
from plexichat.service.seed import DEMO_USERS, seed_demo_data
from plexichat.service.state import STATE_KEY
from tests.generate import support

if TYPE_CHECKING:
    from plexichat.config import Settings
    from tests.service.conftest import RecordingMetrics

POOL = PoolSettings(min_size=1, max_size=4, max_overflow=0, pool_timeout=5)


async def _counts(database: Database) -> dict[str, int]:
    async with database.sessions() as session:
        return {
            model.__tablename__: int(await session.scalar(select(func.count(model.id))) or 0)
            for model in (User, Post, Comment, Message)
        }


async def test_demo_data_is_seeded_so_endpoints_answer_at_once(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    counts = await _counts(getattr(app.state, STATE_KEY).database)
    assert counts == {"users": 5, "posts": 15, "comments": 20, "messages": 5}
    alice = await client.get("/api/users/1")
    assert alice.json()["username"] == DEMO_USERS[0][0]


async def test_seeding_runs_only_on_an_empty_database(tmp_path: Path) -> None:
    database = Database(create_engine(f"sqlite+aiosqlite:///{tmp_path}/x.db", POOL))
    try:
        await database.create_tables()
        assert await seed_demo_data(database) is True
        assert await seed_demo_data(database) is False
        assert (await _counts(database))["users"] == len(DEMO_USERS)
    finally:
        await database.dispose()


async def test_seeding_is_all_or_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken_message(**kwargs: object) -> Message:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr("plexichat.service.seed.Message", broken_message)
    database = Database(create_engine(f"sqlite+aiosqlite:///{tmp_path}/x.db", POOL))
    try:
        await database.create_tables()
        with pytest.raises(RuntimeError, match="disk on fire"):
            await seed_demo_data(database)
        assert await _counts(database) == {"users": 0, "posts": 0, "comments": 0, "messages": 0}
    finally:
        await database.dispose()


async def test_no_demo_data_when_switched_off(
    data_dir: Path, metrics: RecordingMetrics, make_settings: Callable[..., Settings]
) -> None:
    app = create_app(make_settings(data_dir, seed_demo_data=False), metrics=metrics)
    async with app.router.lifespan_context(app):
        assert (await _counts(getattr(app.state, STATE_KEY).database))["users"] == 0


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(app: FastAPI, client: object) -> None:
    engine = getattr(app.state, STATE_KEY).database.engine
    async with engine.connect() as conn:
        assert (await conn.exec_driver_sql("PRAGMA journal_mode")).scalar() == "wal"
        assert (await conn.exec_driver_sql("PRAGMA busy_timeout")).scalar() == 5000
        assert (await conn.exec_driver_sql("PRAGMA foreign_keys")).scalar() == 1


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # removes the SQLite file
async def test_probes(client: httpx.AsyncClient, app: FastAPI, data_dir: Path) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    assert (await client.get("/readyz")).status_code == 200

    await getattr(app.state, STATE_KEY).database.engine.dispose()
    shutil.rmtree(data_dir)
    not_ready = await client.get("/readyz")
    assert not_ready.status_code == 503
    assert (await client.get("/healthz")).status_code == 200
    # The failed probe's connection was invalidated: SQLAlchemy terminates an aiosqlite
    # connection without awaiting its worker thread, which then reports to this test's loop.
    # Give it the moment it needs before the loop closes (else pytest sees the thread fail).
    await asyncio.sleep(0.2)


async def test_openapi_schema_lists_the_endpoints(client: httpx.AsyncClient) -> None:
    schema = (await client.get("/openapi.json")).json()
    assert set(schema["paths"]) >= {
        "/api/users",
        "/api/users/{user_id}",
        "/api/users/{user_id}/posts",
        "/api/messages",
        "/api/posts",
        "/api/posts/popular",
        "/api/posts/{post_id}/comments",
        "/healthz",
        "/readyz",
    }


async def test_fastapi_builtin_telemetry_is_off(
    app: FastAPI, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    # What FastAPI's built-in telemetry keys on: a configured global tracer provider.
    monkeypatch.setattr(trace, "get_tracer_provider", lambda: provider)

    plain = FastAPI()
    plain.add_api_route("/ping", lambda: {"ok": True})
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(plain), base_url="http://test"
    ) as plain_client:
        await plain_client.get("/ping")
    assert exporter.get_finished_spans(), "control: a default FastAPI app traces by itself"
    exporter.clear()

    assert (await client.get("/api/users/1")).status_code == 200
    fastapi_spans = [
        span
        for span in exporter.get_finished_spans()
        if span.instrumentation_scope is not None and span.instrumentation_scope.name == "fastapi"
    ]
    assert fastapi_spans == []


async def test_business_metrics_and_active_users(
    client: httpx.AsyncClient, app: FastAPI, metrics: RecordingMetrics
) -> None:
    assert metrics.gauges["active_users"] == 0  # published at start-up
    await client.post("/api/messages", json={"sender_id": 1, "recipient_id": 2, "body": "x"})
    await client.post("/api/posts", json={"user_id": 3, "title": "t", "body": "b"})
    await client.post("/api/posts/1/comments", json={"user_id": 3, "body": "c"})
    assert getattr(app.state, STATE_KEY).active_users.count() == 2


async def test_each_route_times_its_operation_once_per_request_failures_included(
    client: httpx.AsyncClient, metrics: RecordingMetrics
) -> None:
    """The operations ``service/metrics.py`` lists, which the Business dashboard's panel names:
    a write that fails in the handler (unknown author, missing post, taken username) is timed
    too; a body refused by validation never reaches it; a profile read is not an operation."""
    user = {"username": "timed", "display_name": "T"}
    calls = [
        ("post", "/api/users", user, 201),
        ("post", "/api/users", user, 409),
        ("post", "/api/messages", {"sender_id": 1, "recipient_id": 2, "body": "x"}, 201),
        ("post", "/api/posts", {"user_id": 1, "title": "t", "body": "b"}, 201),
        ("post", "/api/posts", {"user_id": 999999, "title": "t", "body": "b"}, 422),
        ("post", "/api/posts", {"user_id": 1, "title": "", "body": "b"}, 422),
        ("post", "/api/posts/999999/comments", {"user_id": 1, "body": "c"}, 404),
        ("get", "/api/posts/popular", None, 200),
        ("get", "/api/posts/popular", None, 200),
        ("get", "/api/users/1/posts", None, 200),
        ("get", "/api/users/1", None, 200),
    ]
    for method, url, body, code in calls:
        response = await client.request(method, url, json=body)
        assert response.status_code == code, (url, response.text)
    assert metrics.timed == {
        "user_register": 2,
        "message_send": 1,
        "post_create": 2,
        "comment_create": 1,
        "feed_read": 2,
        "user_posts_read": 1,
    }
    business = support.dashboard(support.DASHBOARDS / "business.json")
    (panel,) = [p for p in business["panels"] if p["title"] == "Timed operations p95"]
    assert all(operation in panel["description"] for operation in metrics.timed)


async def test_monitoring_on_serves_metrics(
    data_dir: Path, metrics: RecordingMetrics, make_settings: Callable[..., Settings]
) -> None:
    settings = make_settings(data_dir)
    settings = settings.model_copy(
        update={"performance": settings.performance.model_copy(update={"monitoring_enabled": True})}
    )
    app = create_app(settings, metrics=metrics)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://test") as client,
    ):
        assert (await client.get("/api/users/1/posts")).status_code == 200
        exposition = (await client.get("/metrics")).text
    assert "http_server_request_duration_seconds" in exposition
    assert "db_client_operation_duration_seconds" in exposition
