"""The service's one writer on a real SQLite file: batching, a failing job, callers who give up,
and the schema upgrade of a database from before ``posts.comment_count``."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from plexichat.service import writes
from plexichat.service.db_engine import Database
from plexichat.service.writer import Writer, WriterClosedError


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'w.db'}")
    await Database(engine).create_tables()
    yield engine
    await engine.dispose()


async def _count(engine: AsyncEngine, table: str) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(text(f"SELECT count(*) FROM {table}"))).scalar_one())


async def test_writes_queued_together_commit_in_one_batch(engine: AsyncEngine) -> None:
    writer = Writer(engine, batch_size=100)
    writer.start()
    users = await asyncio.gather(*(writer.run(writes.register(f"u{i}", "U")) for i in range(30)))
    await writer.close()
    assert sorted(u["id"] for u in users) == list(range(1, 31))
    assert await _count(engine, "users") == 30
    assert writer.batches < 30  # they waited together, and went together


async def test_batch_size_bounds_a_transaction(engine: AsyncEngine) -> None:
    writer = Writer(engine, batch_size=4)
    writer.start()
    await asyncio.gather(*(writer.run(writes.register(f"u{i}", "U")) for i in range(20)))
    await writer.close()
    assert writer.batches >= 5


async def test_a_failing_job_fails_only_its_caller(engine: AsyncEngine) -> None:
    writer = Writer(engine, batch_size=100)
    writer.start()
    results = await asyncio.gather(
        writer.run(writes.register("ann", "Ann")),
        writer.run(writes.register("ann", "Ann again")),  # username taken
        writer.run(writes.register("bob", "Bob")),
        return_exceptions=True,
    )
    await writer.close()
    assert isinstance(results[1], IntegrityError)
    assert [r["username"] for r in (results[0], results[2])] == ["ann", "bob"]  # type: ignore[index]
    assert await _count(engine, "users") == 2


async def test_a_caller_who_gave_up_before_its_turn_writes_nothing(engine: AsyncEngine) -> None:
    writer = Writer(engine, batch_size=1)
    gate = asyncio.Event()

    async def slow(conn: AsyncConnection) -> None:
        await gate.wait()

    writer.start()
    first = asyncio.create_task(writer.run(slow))
    abandoned = asyncio.create_task(writer.run(writes.register("late", "Late")))
    await asyncio.sleep(0.05)
    abandoned.cancel()
    gate.set()
    await first
    await writer.close()
    assert await _count(engine, "users") == 0


async def test_a_comment_counts_on_its_post_and_a_missing_post_writes_nothing(
    engine: AsyncEngine,
) -> None:
    writer = Writer(engine, batch_size=10)
    user = await writer.run(writes.register("ann", "Ann"))
    post = await writer.run(writes.create_post(user["id"], "t", "b"))
    written = await writer.run(writes.create_comment(post["id"], user["id"], "c"))
    assert written is not None
    assert written[1] == user["id"]  # the post's author
    assert await writer.run(writes.create_comment(999, user["id"], "c")) is None
    await writer.close()
    async with engine.connect() as conn:
        count = (await conn.execute(text("SELECT comment_count FROM posts"))).scalar_one()
    assert count == 1
    assert await _count(engine, "comments") == 1
    with pytest.raises(WriterClosedError):
        await writer.run(writes.register("bob", "Bob"))


async def test_an_older_database_gets_comment_counts_and_indexes(tmp_path: Path) -> None:
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'old.db'}")
    async with engine.begin() as conn:  # the tables as the first version created them
        for ddl in (
            "CREATE TABLE users (id INTEGER PRIMARY KEY, username VARCHAR(32) UNIQUE,"
            " display_name VARCHAR(64), created_at DATETIME)",
            "CREATE TABLE posts (id INTEGER PRIMARY KEY, user_id INTEGER, title VARCHAR(200),"
            " body TEXT, created_at DATETIME)",
            "CREATE TABLE comments (id INTEGER PRIMARY KEY, post_id INTEGER, user_id INTEGER,"
            " body TEXT, created_at DATETIME)",
            "INSERT INTO users VALUES (1, 'ann', 'Ann', '2026-01-01 00:00:00')",
            "INSERT INTO posts VALUES (1, 1, 't', 'b', '2026-01-01 00:00:00'),"
            " (2, 1, 't', 'b', '2026-01-01 00:01:00')",
            "INSERT INTO comments VALUES (1, 2, 1, 'c', '2026-01-01 00:02:00'),"
            " (2, 2, 1, 'c', '2026-01-01 00:03:00')",
        ):
            await conn.execute(text(ddl))
    await Database(engine).create_tables()
    await Database(engine).create_tables()  # idempotent
    async with engine.connect() as conn:
        counts = (await conn.execute(text("SELECT id, comment_count FROM posts ORDER BY id"))).all()
        indexes = {row[1] for row in await conn.execute(text("PRAGMA index_list(posts)"))}
    await engine.dispose()
    assert [tuple(row) for row in counts] == [(1, 0), (2, 2)]
    assert {"ix_posts_popular", "ix_posts_user_id_created_at_id"} <= indexes


async def test_a_reader_sees_its_own_write_at_once(client: httpx.AsyncClient) -> None:
    # warm both listings, then write: the next read on this replica must include the write
    assert (await client.get("/api/users/2/posts")).status_code == 200
    assert (await client.get("/api/posts/popular")).status_code == 200
    post = await client.post("/api/posts", json={"user_id": 2, "title": "new", "body": "b"})
    new_id = post.json()["id"]
    assert (await client.get("/api/users/2/posts")).json()[0]["id"] == new_id
    for _ in range(4):
        await client.post(f"/api/posts/{new_id}/comments", json={"user_id": 3, "body": "c"})
    popular = (await client.get("/api/posts/popular")).json()
    assert popular[0]["id"] == new_id
    assert popular[0]["comment_count"] == 4
    assert (await client.get("/api/users/2/posts")).json()[0]["comment_count"] == 4
