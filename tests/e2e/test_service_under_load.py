"""The real service (``plexichat-obs serve`` with Redis) under ``loadgen``'s default mix: the
cache hit ratio, a Redis outage mid-load, and the rate limit loadgen reports."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from plexichat.loadgen import LoadConfig, run_async
from plexichat.loadgen.report import Summary
from tests.support import scrape, service
from tests.support.redis_server import RedisServer

pytestmark = pytest.mark.integration

TRUST_LOADGEN = {
    "PLEXICHAT_API__RATE_LIMITING__CLIENT_HEADER": "X-Forwarded-For",
    "PLEXICHAT_API__RATE_LIMITING__TRUSTED_PROXIES": '["127.0.0.1/32"]',
}


@contextmanager
def serving(tmp_path: Path, redis: RedisServer | None, **env: str) -> Iterator[str]:
    if redis is not None:
        env["PLEXICHAT_CACHING__REDIS_CACHE__ENABLED"] = "true"
        env["PLEXICHAT_CACHING__REDIS_CACHE__HOST"] = "127.0.0.1"
        env["PLEXICHAT_CACHING__REDIS_CACHE__PORT"] = str(redis.port)
    with service.serving(tmp_path, env) as served:
        yield served.url


def failures(summary: Summary) -> int:
    """5xx responses, connection errors, timeouts, requests left unfinished."""
    return (
        summary.status_classes.get("5xx", 0)
        + summary.connection_errors
        + summary.timeouts
        + summary.unfinished
    )


def lookups(url: str) -> tuple[float, float]:
    text = httpx.get(f"{url}/metrics", timeout=5).text
    name = "plexichat_cache_lookups_total"
    return scrape.value(text, name, cache_result="hit"), scrape.value(text, name)


async def test_hit_ratio_above_90_percent_under_the_default_mix(
    tmp_path: Path, redis_server: RedisServer
) -> None:
    with serving(tmp_path, redis_server, **TRUST_LOADGEN) as url:
        hits0, total0 = await asyncio.to_thread(lookups, url)
        summary = await run_async(LoadConfig(url=url, duration_s=6, rps=100, identities=1000))
        hits, total = await asyncio.to_thread(lookups, url)
    # What the service answered wrongly fails the test; timeouts, drops and requests left
    # unfinished measure how busy this machine is (the ratio is over the lookups that ran).
    assert summary.status_classes.get("5xx", 0) + summary.connection_errors == 0, summary
    assert summary.rate_limited == 0
    ratio = (hits - hits0) / (total - total0)
    print(f"cache hit ratio under loadgen's default mix: {ratio:.3f} over {total - total0} lookups")
    assert ratio > 0.90


async def test_redis_killed_mid_load_costs_no_request_and_recovers(
    tmp_path: Path, redis_server: RedisServer
) -> None:
    with serving(tmp_path, redis_server, **TRUST_LOADGEN) as url:

        async def outage() -> None:
            await asyncio.sleep(2)
            redis_server.kill()
            await asyncio.sleep(2)
            await asyncio.to_thread(redis_server.start)

        load = run_async(LoadConfig(url=url, duration_s=7, rps=80, identities=1000))
        summary, _ = await asyncio.gather(load, outage())
        text = (await asyncio.to_thread(httpx.get, f"{url}/metrics", timeout=5)).text
    assert summary.responses == summary.sent
    assert failures(summary) == 0, summary.to_text()
    assert summary.status_classes.get("5xx", 0) == 0
    state = "plexichat_cache_tier_state"
    assert scrape.value(text, state, cache_tier="redis", cache_tier_state="closed") == 1
    # The breaker opened (writes and reads skipped Redis) and closed again once it answered.
    log = (tmp_path / "performance.log").read_text()
    assert "cache tier redis state open" in log
    assert "cache tier redis state closed" in log


async def test_loadgen_reports_the_limit_it_ran_under(tmp_path: Path) -> None:
    with serving(tmp_path, None) as url:
        summary = await run_async(LoadConfig(url=url, duration_s=3, rps=60, users=5))
    assert summary.rate_limit_policy == "100;w=60;burst=200"
    assert summary.rate_limited > 0
    assert failures(summary) == 0
    assert "rate limited (429)" in summary.to_text()
