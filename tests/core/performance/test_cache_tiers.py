"""The tiers together, against a real Redis: read-through, write-through, invalidation across
tiers and replicas, the metrics they record, and Redis failing underneath."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable

import pytest

from plexichat.config import Settings
from plexichat.core.performance import CacheManager, LatencyOptimizer
from plexichat.observability import MetricRegistry, Telemetry
from tests.support import scrape
from tests.support.redis_server import RedisServer

pytestmark = pytest.mark.integration


@pytest.fixture
async def replicas(
    redis_server: RedisServer, make_cache_settings: Callable[..., Settings]
) -> AsyncIterator[Callable[..., CacheManager]]:
    made: list[CacheManager] = []

    breaker = {"caching": {"redis_cache": {"circuit_breaker": {"reset_timeout_seconds": 0.3}}}}

    def make(registry: MetricRegistry | None = None, **performance: object) -> CacheManager:
        cache = CacheManager(
            make_cache_settings(redis_server, **breaker, **performance),
            registry=registry or MetricRegistry(),
        )
        made.append(cache)
        return cache

    yield make
    for cache in made:
        await cache.close()


def metrics_text(registry: MetricRegistry, settings: Settings) -> str:
    telemetry = Telemetry(settings, registry=registry)
    try:
        return telemetry.render_metrics(None)[0].decode()
    finally:
        telemetry.shutdown()


async def test_hits_and_misses_per_tier_in_metrics(
    replicas: Callable[..., CacheManager], make_cache_settings: Callable[..., Settings]
) -> None:
    registry = MetricRegistry()
    a = replicas(registry)
    b = replicas()
    await a.set("user:1", {"name": "alice"})  # write-through: L1 and L2 of a
    assert await a.get("user:1") == {"name": "alice"}  # L1 hit
    assert await a.get("user:2") is None  # L1 miss, L2 miss
    assert await b.get("user:1") == {"name": "alice"}  # b: L1 miss, L2 hit (read-through)
    assert await b.get("user:1") == {"name": "alice"}  # b: L1 hit now
    assert b.memory is not None
    assert "user:1" in b.memory
    assert a.memory is not None
    a.memory.delete("user:1")  # as if evicted
    assert await a.get("user:1") == {"name": "alice"}  # a: L1 miss, L2 hit

    text = metrics_text(registry, make_cache_settings())
    req = "plexichat_cache_requests_total"
    assert scrape.value(text, req, cache_tier="memory", cache_result="hit") == 1
    assert scrape.value(text, req, cache_tier="memory", cache_result="miss") == 2
    assert scrape.value(text, req, cache_tier="redis", cache_result="hit") == 1
    assert scrape.value(text, req, cache_tier="redis", cache_result="miss") == 1
    # One lookup each; the L1-miss-then-L2-hit counts as a hit.
    assert scrape.value(text, "plexichat_cache_lookups_total", cache_result="hit") == 2
    assert scrape.value(text, "plexichat_cache_lookups_total", cache_result="miss") == 1
    assert scrape.value(text, "plexichat_cache_memory_usage_bytes") > 0
    assert (
        scrape.value(
            text, "plexichat_cache_tier_state", cache_tier="redis", cache_tier_state="closed"
        )
        == 1
    )
    stats = await a.get_stats()
    assert (stats.hits, stats.misses) == (2, 1)
    assert stats.hit_ratio == pytest.approx(2 / 3)
    assert stats.miss_ratio == pytest.approx(1 / 3)
    assert stats.memory_usage_mb > 0


async def test_a_write_on_one_replica_evicts_the_others_l1(
    replicas: Callable[..., CacheManager],
) -> None:
    a, b = replicas(), replicas()
    await a.set("user:1", {"v": 1})
    assert await b.get("user:1") == {"v": 1}
    assert b.memory is not None
    assert "user:1" in b.memory
    await a.set("user:1", {"v": 2})
    await until(lambda: b.memory is not None and "user:1" not in b.memory)
    assert await b.get("user:1") == {"v": 2}
    await a.delete("user:1")
    await until(lambda: b.memory is not None and "user:1" not in b.memory)
    assert await b.get("user:1") is None


async def test_pattern_invalidation_across_tiers_and_replicas(
    replicas: Callable[..., CacheManager], redis_server: RedisServer
) -> None:
    a, b = replicas(), replicas()
    for i in range(1200):  # more than one SCAN page
        await a.set(f"user:{i}", i)
    await a.set("user_prefs:1", "dark")
    await a.set("post:1", "hello")
    assert await b.get("user:7") == 7
    removed = await a.invalidate_pattern("user:*")
    assert removed >= 1200
    await until(lambda: b.memory is not None and "user:7" not in b.memory)
    assert await a.get("user:7") is None
    assert await b.get("user:7") is None
    assert await b.get("user_prefs:1") == "dark"
    assert await b.get("post:1") == "hello"
    assert a.redis is not None
    assert await a.redis.client.exists("plexichat:user:1") == 0
    assert await a.redis.client.exists("plexichat:post:1") == 1


async def test_ttl_expiry_in_both_tiers(replicas: Callable[..., CacheManager]) -> None:
    a = replicas()
    await a.set("short", "x", ttl=0.3)
    assert await a.get("short") == "x"
    await asyncio.sleep(0.4)
    assert await a.get("short") is None
    assert a.redis is not None
    assert await a.redis.client.exists("plexichat:short") == 0


async def test_read_through_keeps_the_remaining_redis_ttl(
    replicas: Callable[..., CacheManager],
) -> None:
    a, b = replicas(), replicas()
    await a.set("soon", "x", ttl=0.3)
    assert await b.get("soon") == "x"  # copied into b's L1 for what is left of 0.3 s
    await asyncio.sleep(0.4)
    assert await b.get("soon") is None


async def test_cached_runs_once_sync_and_async(replicas: Callable[..., CacheManager]) -> None:
    cache = replicas()
    calls: list[str] = []

    @cache.cached(ttl=60, cache_type="memory")
    async def profile(user_id: str) -> dict[str, str]:
        calls.append(user_id)
        return {"id": user_id}

    @cache.cached(ttl=60)
    def square(x: int) -> int:
        calls.append(f"sq{x}")
        return x * x

    assert await profile("1") == {"id": "1"}
    assert await profile("1") == {"id": "1"}
    assert await profile("2") == {"id": "2"}
    assert square(3) == 9
    assert square(3) == 9
    assert calls == ["1", "2", "sq3"]
    stats = await cache.get_stats()
    assert (stats.hits, stats.misses) == (2, 3)


async def test_a_value_invalidated_while_computed_is_not_stored(
    replicas: Callable[..., CacheManager],
) -> None:
    cache = replicas()
    started, release = asyncio.Event(), asyncio.Event()

    async def slow_old_value() -> str:
        started.set()
        await release.wait()
        return "old"

    reader = asyncio.create_task(cache.get_or_set("k", slow_old_value))
    await started.wait()
    await cache.delete("k")  # a writer changed the data meanwhile
    release.set()
    assert await reader == "old"
    assert await cache.get("k") is None


async def test_redis_killed_then_back(
    replicas: Callable[..., CacheManager], redis_server: RedisServer
) -> None:
    registry = MetricRegistry()
    cache = replicas(registry)
    await cache.set("a", 1)
    redis_server.kill()
    # Nothing raises; writes and reads fall back to L1; the breaker opens.
    for i in range(20):
        await cache.set(f"k{i}", i)
        assert await cache.get(f"k{i}") == i
    assert await cache.get("missing") is None
    assert cache.redis is not None
    assert cache.redis.state == "open"
    state = scrape.value(
        metrics_text(registry, cache.settings),
        "plexichat_cache_tier_state",
        cache_tier_state="open",
    )
    assert state == 1
    assert cache.bus is not None
    assert not cache.bus.live
    redis_server.start()
    await asyncio.sleep(0.35)  # reset_timeout
    await cache.set("after", "ok")
    assert str(cache.redis.state) == "closed"  # str(): mypy keeps the "open" narrowing above
    assert await cache.redis.client.get("plexichat:after") == b'"ok"'
    assert await cache.bus.wait_live(3.0)


async def test_preloading_warms_hot_keys_into_a_new_replica(
    replicas: Callable[..., CacheManager],
) -> None:
    preloading = {"latency_optimizer": {"preloading": {"preload_threshold": 3}}}
    a = replicas(**preloading)
    await a.set("hot", "h")
    await a.set("cold", "c")
    for _ in range(3):
        await a.get("hot")
    for _ in range(2):
        await a.get("cold")
    await a.tasks.wait_idle()
    b = replicas(**preloading)
    await b.start()
    assert b.memory is not None
    assert "hot" in b.memory
    assert "cold" not in b.memory


async def test_preloading_stays_within_cache_size(replicas: Callable[..., CacheManager]) -> None:
    preloading = {"latency_optimizer": {"preloading": {"preload_threshold": 1, "cache_size": 40}}}
    a = replicas(**preloading)
    for key in ("k1", "k2", "k3"):
        await a.set(key, "x" * 10)  # 2 + 12 bytes each
        await a.get(key)
    await a.tasks.wait_idle()
    b = replicas(**preloading)
    await b.start()
    assert b.memory is not None
    assert len(b.memory) == 2
    assert b.memory.bytes_used <= 40


async def until(condition: Callable[[], bool], within: float = 2.0) -> None:
    """Poll ``condition`` (state changed by a background task) for up to ``within`` s."""
    async with asyncio.timeout(within):
        while not condition():  # noqa: ASYNC110 -- nothing to wait on but the state itself
            await asyncio.sleep(0.005)


async def test_clearing_the_redis_tier_keeps_the_hot_set_and_rate_limit_buckets(
    replicas: Callable[..., CacheManager], make_cache_settings: Callable[..., Settings]
) -> None:
    """The Redis keyspace has one owner: clear_cache and pattern deletes reach cache entries
    only, never the fleet's hot set, the rate limiter's buckets or the active users under the
    same prefix."""
    cache = replicas(latency_optimizer={"preloading": {"preload_threshold": 1}})
    await cache.set("user:1", "alice")
    await cache.get("user:1")  # hot at the first access
    await cache.tasks.wait_idle()
    tier = cache.redis
    assert tier is not None
    limiter = LatencyOptimizer(cache.settings, registry=MetricRegistry(), cache=cache)
    assert await limiter.rate_limiter().acquire("10.0.0.1") == 0
    assert await tier.active_users({7: time.time()}, since=0) == 1
    own_keys = {
        b"plexichat:__hot__",
        b"plexichat:__ratelimit__:10.0.0.1",
        b"plexichat:__active_users__",
    }
    assert set(await tier.client.keys("plexichat:*")) == {b"plexichat:user:1", *own_keys}

    assert await cache.invalidate_pattern("*") == 2  # L1 and L2 copies of user:1
    await cache.set("user:2", "bob")
    await cache.clear_cache("redis")
    assert set(await tier.client.keys("plexichat:*")) == own_keys
    assert await tier.hot_keys(0, 10) == ["user:1"]
    assert await tier.active_users({}, since=0) == 1


async def test_cache_keys_of_the_tier_own_namespace_are_refused(
    replicas: Callable[..., CacheManager],
) -> None:
    cache = replicas()
    with pytest.raises(ValueError, match="reserved for the Redis tier's own keys"):
        await cache.set("__hot__", "overwrite the hot set")
    assert cache.redis is not None
    assert await cache.redis.client.exists("plexichat:__hot__") == 0
