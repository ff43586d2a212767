"""Every ```python block of the performance guide, run as written against the real service.

The blocks are read from ``../shared/SEED-performance-guide.md`` (beside the checkout, as in CI)
when the tests are collected. Each block runs in a namespace holding only the helpers the
guide leaves undefined (``database.fetch_user``, ``get_popular_posts``, ``db_pool`` ...),
backed by a running PlexiChat service: its SQLite database and its cache tiers, with Redis.
Top-level ``await`` is allowed, as in the guide. After a block runs, its checker asserts what
the block should have done (a cached call ran once, stats moved, metrics were recorded).

One rule skips blocks, by name: ``yaml_config`` -- blocks that are YAML configuration in a
python fence (they do not compile as Python and load as a YAML mapping); the configuration
tests load every one of those. A block that neither a checker nor the rule claims fails.
"""

from __future__ import annotations

import ast
import asyncio
import logging
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
import yaml
from fastapi import FastAPI
from sqlalchemy import text

from plexichat.config import load_settings
from plexichat.core.logging_unified import get_performance_logger
from plexichat.core.performance import CacheManager, performance_profile
from plexichat.observability.metrics.instruments import CounterSeries, HistogramSeries
from plexichat.service import create_app
from plexichat.service.state import STATE_KEY, ServiceState
from tests.support.paths import GUIDE
from tests.support.redis_server import RedisServer

_FENCE = re.compile(r"^```python\n(.*?)^```", re.MULTILINE | re.DOTALL)


def guide_blocks() -> list[str]:
    if not GUIDE.is_file():
        raise FileNotFoundError(
            f"the performance guide is not at {GUIDE} (shared/ beside the clone)"
        )
    return _FENCE.findall(GUIDE.read_text(encoding="utf-8"))


def yaml_config(block: str) -> bool:
    """The skip rule: YAML configuration in a python fence."""
    try:
        ast.parse(block)
    except SyntaxError:
        try:
            loaded = yaml.safe_load(block)
        except yaml.YAMLError:
            return False
        return isinstance(loaded, dict)
    return False


@dataclass
class World:
    """The running service, and what the helpers recorded."""

    app: FastAPI
    state: ServiceState
    calls: dict[str, int] = field(default_factory=dict)

    def count(self, name: str) -> None:
        self.calls[name] = self.calls.get(name, 0) + 1


def helpers(world: World) -> dict[str, Any]:
    """The names the guide's examples use without defining them."""
    state = world.state

    async def fetch_user(user_id: str) -> dict[str, Any] | None:
        world.count("fetch_user")
        async with state.database.sessions() as session:
            return await state.cache.user(session, int(user_id))

    async def get_popular_posts() -> list[dict[str, Any]]:
        async with state.database.sessions() as session:
            return await state.cache.popular_posts(session, 10)

    async def get_active_users() -> list[SimpleNamespace]:
        async with state.database.sessions() as session:
            rows = await session.execute(text("SELECT id FROM users ORDER BY id LIMIT 3"))
            return [SimpleNamespace(id=row.id) for row in rows]

    async def get_user_preferences(user_id: int) -> dict[str, Any]:
        return {"user_id": user_id, "theme": "dark"}

    class Connection:
        """A pooled connection to the service database, asyncpg-style ``fetch``."""

        async def fetch(self, query: str, *args: Any) -> list[dict[str, Any]]:
            sql = re.sub(r"\$(\d+)", r":p\1", query)
            params = {f"p{i + 1}": value for i, value in enumerate(args)}
            async with state.database.engine.connect() as conn:
                result = await conn.execute(text(sql), params)
                return [dict(row._mapping) for row in result]

    class Acquire:
        async def __aenter__(self) -> Connection:
            world.count("acquire")
            return Connection()

        async def __aexit__(self, *exc: object) -> None:
            return None

    async def some_database_operation() -> int:
        async with state.database.engine.connect() as conn:
            return int((await conn.execute(text("SELECT count(*) FROM posts"))).scalar_one())

    async def get_user(user_id: str) -> dict[str, Any] | None:
        return await fetch_user(user_id)

    async def validate_data(data: dict[str, Any]) -> SimpleNamespace:
        return SimpleNamespace(is_valid=bool(data), errors=[] if data else ["empty"])

    def update_analytics(user_id: str, data: dict[str, Any]) -> None:
        world.count("update_analytics")

    async def process_data(user: Any, data: dict[str, Any]) -> dict[str, Any]:
        return {"user": user, "data": data}

    class BackgroundTasks:
        def __init__(self) -> None:
            self.tasks: list[tuple[Callable[..., Any], tuple[Any, ...]]] = []

        def add_task(self, func: Callable[..., Any], *args: Any) -> None:
            self.tasks.append((func, args))

    async def create_connection() -> object:
        world.count("create_connection")
        return object()

    async def some_operation() -> int:
        await asyncio.sleep(0.01)
        return sum(range(1000))

    return {
        "asyncio": asyncio,
        "database": SimpleNamespace(fetch_user=fetch_user),
        "value": {"answer": 42},
        "get_popular_posts": get_popular_posts,
        "get_active_users": get_active_users,
        "get_user_preferences": get_user_preferences,
        "db_pool": SimpleNamespace(acquire=Acquire),
        "app": world.app,
        "some_database_operation": some_database_operation,
        "get_user": get_user,
        "validate_data": validate_data,
        "update_analytics": update_analytics,
        "process_data": process_data,
        "background_tasks": BackgroundTasks(),
        "ValidationError": ValueError,
        "create_connection": create_connection,
        "current_active_count": 7,
        "file_size": 4096,
        "processing_duration": 0.125,
        "active_connections": 3,
        "cache_memory_bytes": 1_048_576,
        "performance_profile": performance_profile,  # used by the guide without an import
        "some_operation": some_operation,
    }


# -- checkers: what each block must have done -----------------------------------------------
Checker = Callable[[dict[str, Any], World], Awaitable[None]]


def counter(kind: str, name: str) -> float:
    series = get_performance_logger()._plain.get((kind, name))
    if isinstance(series, CounterSeries):
        return series.value
    if isinstance(series, HistogramSeries):
        return series.count
    return 0


def timer_count(name: str) -> int:
    series = get_performance_logger()._timers.series((name,))
    assert isinstance(series, HistogramSeries)
    return series.count


async def check_optimizer(ns: dict[str, Any], world: World) -> None:
    assert ns["app"] is world.app
    names = [getattr(m.cls, "__name__", "") for m in world.app.user_middleware]
    assert "RateLimitMiddleware" in names
    assert "GzipMiddleware" in names
    before = timer_count("optimized_operation")
    assert await ns["optimized_operation"]() == 15
    assert timer_count("optimized_operation") == before + 1


async def check_cache_usage(ns: dict[str, Any], world: World) -> None:
    cache: CacheManager = ns["cache"]
    try:
        assert ns["result"] == {"answer": 42}  # set then get, before the delete
        assert await cache.get("key") is None  # deleted
        before = world.calls.get("fetch_user", 0)
        first = await ns["get_user_profile"]("1")
        again = await ns["get_user_profile"]("1")
        assert first == again
        assert first["username"] == "alice"
        assert world.calls["fetch_user"] == before + 1  # the cached call ran once
        stats = await cache.get_stats()
        assert stats.hits >= 1
        assert stats.misses >= 1
    finally:
        await cache.close()


async def check_logger(ns: dict[str, Any], world: World) -> None:
    before = timer_count("slow_operation")
    await ns["slow_operation"]()
    await ns["manual_timing"]()
    assert timer_count("slow_operation") == before + 1
    assert timer_count("custom_operation") >= 1
    assert counter("counter", "api_calls") >= 1
    assert counter("gauge", "active_connections") == 150
    assert counter("histogram", "response_size") >= 1


async def check_warm_cache(ns: dict[str, Any], world: World) -> None:
    ns["cache"] = CacheManager()
    try:
        await ns["warm_cache"]()
        assert [p["id"] for p in await ns["cache"].get("popular_posts")][:1]
        assert await ns["cache"].get("user_prefs:2") == {"user_id": 2, "theme": "dark"}
    finally:
        await ns["cache"].close()


async def check_user_posts_query(ns: dict[str, Any], world: World) -> None:
    rows = await ns["get_user_posts_optimized"](1)
    assert len(rows) == 3
    assert {row["username"] for row in rows} == {"alice"}
    assert sorted(row["comment_count"] for row in rows) == [0, 1, 3]


async def check_async_request(ns: dict[str, Any], world: World) -> None:
    result = await ns["process_user_request"]("1", {"text": "hi"})
    assert result["user"]["username"] == "alice"
    assert ns["background_tasks"].tasks[0][0] is ns["update_analytics"]
    with pytest.raises(ValueError, match="empty"):
        await ns["process_user_request"]("1", {})


async def check_connection_pool(ns: dict[str, Any], world: World) -> None:
    pool = ns["ConnectionPool"](max_size=2)
    a = await pool.acquire()
    b = await pool.acquire()
    await pool.release(a)
    assert await pool.acquire() is a
    await pool.release(b)
    assert world.calls["create_connection"] == 2


async def check_custom_metrics(ns: dict[str, Any], world: World) -> None:
    assert counter("counter", "user_registrations") >= 1
    assert counter("counter", "messages_sent") >= 1
    assert counter("gauge", "database_connections") == 3
    assert counter("gauge", "cache_memory_usage") == 1_048_576
    assert counter("histogram", "file_upload_size") >= 1
    assert timer_count("image_processing_time") >= 1


async def check_memory_profiler(ns: dict[str, Any], world: World) -> None:
    profiler = ns["profiler"]
    try:
        stats = ns["memory_stats"]
        assert stats.current_mb > 0
        assert stats.peak_mb >= stats.current_mb
    finally:
        profiler.stop_monitoring()


async def check_cache_diagnostics(ns: dict[str, Any], world: World) -> None:
    try:
        assert 0 <= ns["stats"].hit_ratio <= 1
        assert ns["stats"].memory_usage_mb >= 0
    finally:
        await ns["cache"].close()


async def check_profiling(ns: dict[str, Any], world: World) -> None:
    assert ns["debug_slow_function"] is not None
    await ns["debug_slow_function"]()
    await ns["manual_profiling"]()


CHECKERS: dict[str, Checker] = {
    "optimizer.optimize_app(app)": check_optimizer,
    "@cache.cached(ttl=3600": check_cache_usage,
    "@perf_logger.time_function": check_logger,
    "async def warm_cache": check_warm_cache,
    "async def get_user_posts_optimized": check_user_posts_query,
    "async def process_user_request": check_async_request,
    "class ConnectionPool": check_connection_pool,
    'perf.increment_counter("user_registrations")': check_custom_metrics,
    "profiler = MemoryProfiler()": check_memory_profiler,
    "stats = await cache.get_stats()": check_cache_diagnostics,
    "@performance_profile": check_profiling,
}


def checker_for(block: str) -> Checker | None:
    found = [check for marker, check in CHECKERS.items() if marker in block]
    assert len(found) <= 1, f"several checkers claim the block:\n{block}"
    return found[0] if found else None


BLOCKS = guide_blocks()


def test_the_guide_has_python_blocks_and_each_is_claimed() -> None:
    assert len(BLOCKS) >= 15
    unclaimed = [b for b in BLOCKS if checker_for(b) is None and not yaml_config(b)]
    assert unclaimed == []
    assert sum(1 for b in BLOCKS if checker_for(b) is not None) == len(CHECKERS)


@pytest.fixture
async def world(
    redis_server: RedisServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[World]:
    # The guide's argument-less CacheManager() and LatencyOptimizer() read the environment.
    monkeypatch.setenv("PLEXICHAT_CACHING__REDIS_CACHE__ENABLED", "true")
    monkeypatch.setenv("PLEXICHAT_CACHING__REDIS_CACHE__HOST", "127.0.0.1")
    monkeypatch.setenv("PLEXICHAT_CACHING__REDIS_CACHE__PORT", str(redis_server.port))
    monkeypatch.setenv("PLEXICHAT_SERVICE__DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("PLEXICHAT_PERFORMANCE__MONITORING_ENABLED", "false")
    monkeypatch.setenv("PLEXICHAT_PERFORMANCE_PROFILING", "true")
    app = create_app(load_settings())
    async with app.router.lifespan_context(app):
        state = getattr(app.state, STATE_KEY)
        # Some business traffic first, so the business counters have moved.
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app), base_url="http://test"
        ) as client:
            await client.post("/api/users", json={"username": "guide", "display_name": "G"})
            await client.post(
                "/api/messages", json={"sender_id": 1, "recipient_id": 2, "body": "hi"}
            )
        yield World(app=app, state=state)


@pytest.mark.integration
@pytest.mark.parametrize(
    "block", [pytest.param(b, id=f"block{i:02d}") for i, b in enumerate(BLOCKS)]
)
async def test_guide_block_runs_as_written(
    block: str, world: World, caplog: pytest.LogCaptureFixture
) -> None:
    if yaml_config(block):
        pytest.skip("yaml_config: YAML configuration in a python fence (see the config tests)")
    check = checker_for(block)
    assert check is not None
    namespace = helpers(world)
    code = compile(block, "<guide>", "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    with caplog.at_level(logging.INFO, logger="plexichat.performance"):
        outcome = eval(code, namespace)
        if asyncio.iscoroutine(outcome):
            await outcome
        await check(namespace, world)
    if check is check_profiling:
        assert any("profile function=" in r.getMessage() for r in caplog.records)
