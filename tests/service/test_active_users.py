"""``active_users`` across processes: a distinct count kept in Redis, not summed per worker."""

from __future__ import annotations

import pytest

from plexichat.core.performance.cache.redis import RedisTier
from plexichat.observability import MetricRegistry
from plexichat.service.activity import SharedActiveUsers
from tests.core.performance.conftest import cache_settings
from tests.support.redis_server import RedisServer

pytestmark = pytest.mark.integration


def tier(redis: RedisServer) -> RedisTier:
    # A breaker that stays closed: the tier reconnects as soon as Redis is back.
    breaker = {"redis_cache": {"circuit_breaker": {"failure_threshold": 1000}}}
    config = cache_settings(redis, caching=breaker).performance.caching.redis_cache
    return RedisTier(config, registry=MetricRegistry())


async def test_workers_sharing_redis_count_each_user_once(redis_server: RedisServer) -> None:
    now = [1_000.0]
    a_tier, b_tier = tier(redis_server), tier(redis_server)
    a = SharedActiveUsers(a_tier, window_s=900, clock=lambda: now[0])
    b = SharedActiveUsers(b_tier, window_s=900, clock=lambda: now[0])
    try:
        a.touch(1)
        b.touch(1)  # the same user through another worker (or replica)
        b.touch(2)
        assert await a.shared_count() == 1  # b has not published its writes yet
        assert await b.shared_count() == 2
        assert await a.shared_count() == 2  # every process reports the same count
        now[0] += 600
        a.touch(3)
        now[0] += 400  # users 1 and 2 wrote 1000 s ago: out of the 900 s window
        assert await a.shared_count() == 1
    finally:
        await a_tier.close()
        await b_tier.close()


async def test_writes_wait_when_redis_is_away(redis_server: RedisServer) -> None:
    shared_tier = tier(redis_server)
    tracker = SharedActiveUsers(shared_tier, window_s=900)
    try:
        tracker.touch(7)
        redis_server.kill()
        assert await tracker.shared_count() is None  # no value rather than a wrong one
        redis_server.start()  # the same port, empty
        tracker.touch(8)
        assert await tracker.shared_count() == 2  # the write from the outage was kept
    finally:
        await shared_tier.close()
