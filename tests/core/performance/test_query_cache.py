"""L3, the query cache, on a real SQLite database: what is cached, TTL, size, and invalidation
on writes to the tables a cached query reads; the Redis tier's connection settings."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine

from plexichat.config import Settings
from plexichat.core.performance import CacheManager
from plexichat.core.performance.cache.query import written_table
from plexichat.observability import MetricRegistry
from plexichat.service.models import Base, Post, User
from tests.support.redis_server import RedisServer


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    eng = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'q.db'}")
    async with eng.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
        await conn.execute(text("CREATE TABLE audit_log (id INTEGER PRIMARY KEY, what TEXT)"))
        await conn.execute(
            text(
                "INSERT INTO users (id, username, display_name, created_at) "
                "VALUES (1, 'alice', 'Alice', '2026-01-01 00:00:00')"
            )
        )
    yield eng
    await eng.dispose()


def make(settings: Settings, engine: AsyncEngine, clock: Clock) -> CacheManager:
    cache = CacheManager(settings, registry=MetricRegistry(), clock=clock)
    cache.query.attach(engine)
    return cache


async def run(cache: CacheManager, engine: AsyncEngine, stmt: object) -> int:
    before = len(cache.query)
    async with AsyncSession(engine) as session:
        await cache.query.execute(session, stmt)
    return len(cache.query) - before


async def test_cached_until_a_write_to_a_table_it_reads(
    engine: AsyncEngine, make_cache_settings: Callable[..., Settings]
) -> None:
    cache = make(make_cache_settings(), engine, Clock())
    users = select(User.id, User.username)
    posts = select(Post.id).join(User, Post.user_id == User.id)
    assert await run(cache, engine, users) == 1
    assert await run(cache, engine, posts) == 1
    assert await run(cache, engine, users) == 0  # a hit
    assert cache.metrics.tier_counts[("query", "hit")] == 1
    async with AsyncSession(engine) as session:
        await session.execute(
            text(
                "INSERT INTO posts (user_id, title, body, created_at) "
                "VALUES (1, 't', 'b', '2026-01-01 00:00:00')"
            )
        )
        await session.commit()
    # The write to posts dropped the posts query, not the users-only one.
    assert len(cache.query) == 1
    async with AsyncSession(engine) as session:
        rows = await cache.query.execute(session, posts)
    assert len(rows) == 1


async def test_exclude_tables_select_only_and_the_switches(
    engine: AsyncEngine, make_cache_settings: Callable[..., Settings]
) -> None:
    cache = make(make_cache_settings(), engine, Clock())
    assert await run(cache, engine, text("SELECT id FROM users")) == 0  # select-only: no text
    assert await run(cache, engine, text("SELECT id FROM audit_log")) == 0
    loose = make(
        make_cache_settings(caching={"query_cache": {"cache_select_only": False}}),
        engine,
        Clock(),
    )
    assert await run(loose, engine, text("SELECT id FROM users")) == 1
    assert await run(loose, engine, text("SELECT id FROM audit_log")) == 0  # excluded
    off = make(
        make_cache_settings(database={"query_optimization": {"enable_query_cache": False}}),
        engine,
        Clock(),
    )
    assert await run(off, engine, select(User.id)) == 0


async def test_ttl_and_max_entries(
    engine: AsyncEngine, make_cache_settings: Callable[..., Settings]
) -> None:
    clock = Clock()
    cache = make(
        make_cache_settings(caching={"query_cache": {"ttl": 10, "max_entries": 2}}), engine, clock
    )
    for n in (1, 2, 3):
        await run(cache, engine, select(User.id).limit(n))
    assert len(cache.query) == 2  # the least recently used went
    assert cache.metrics.eviction["query"].value == 1
    clock.now += 11
    assert await run(cache, engine, select(User.id).limit(3)) == 0  # expired, then re-stored


def test_written_table() -> None:
    assert written_table('INSERT INTO "posts" (a) VALUES (1)') == "posts"
    assert written_table("UPDATE users SET x = 1") == "users"
    assert written_table("DELETE FROM comments WHERE id = 1") == "comments"
    assert written_table("SELECT * FROM posts") is None


@pytest.mark.integration
async def test_redis_tier_connection_settings(
    redis_server: RedisServer, make_cache_settings: Callable[..., Settings]
) -> None:
    settings = make_cache_settings(
        redis_server,
        caching={
            "redis_cache": {
                "db": 3,
                "max_connections": 7,
                "key_prefix": "pc-test:",
                "password": None,
                "socket_timeout_seconds": 0.5,
            }
        },
    )
    cache = CacheManager(settings, registry=MetricRegistry())
    try:
        await cache.set("k", 1)
        assert cache.redis is not None
        assert cache.redis.pool.max_connections == 7
        assert cache.redis.pool.connection_kwargs["socket_timeout"] == 0.5
        assert cache.redis.pool.connection_kwargs["db"] == 3
        assert await cache.redis.client.get("pc-test:k") == b"1"
        assert await cache.redis.client.execute_command("CLIENT", "INFO") is not None
    finally:
        await cache.close()
