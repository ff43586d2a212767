"""The latency optimizer on a small app: 413, 429, 504 with their headers, gzip above
``min_size`` only, client identity behind trusted proxies, the rejection metrics, the limits
shared through Redis, and ``optimize_context``."""

from __future__ import annotations

import asyncio
import gzip
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from plexichat.config import Settings
from plexichat.config.scalars import parse_rate
from plexichat.core.performance import CacheManager, LatencyOptimizer
from plexichat.core.performance.client_identity import ClientIdentity
from plexichat.core.performance.middleware import TimeoutMiddleware
from plexichat.core.performance.rate_limiter import LocalRateLimiter
from plexichat.observability import MetricRegistry, instrument_app
from plexichat.observability.metrics.instruments import CounterSeries, HistogramSeries
from tests.support.datamodel import values
from tests.support.redis_server import RedisServer


async def sized(request: Request) -> Response:
    return PlainTextResponse("x" * int(request.path_params["n"]))


async def slow(request: Request) -> Response:
    await asyncio.sleep(5)
    return PlainTextResponse("late")


async def echo(request: Request) -> Response:
    return PlainTextResponse(f"{len(await request.body())} bytes")


def make_app() -> Starlette:
    return Starlette(
        routes=[
            Route("/size/{n:int}", sized),
            Route("/slow", slow),
            Route("/echo", echo, methods=["POST"]),
        ]
    )


def optimized(settings: Settings, **kwargs: Any) -> tuple[Starlette, LatencyOptimizer]:
    app = make_app()
    optimizer = LatencyOptimizer(settings, registry=MetricRegistry(), **kwargs)
    assert optimizer.optimize_app(app) is app
    return app, optimizer


def client(app: Starlette, peer: str = "127.0.0.1") -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app, client=(peer, 1234)), base_url="http://test"
    )


def api(**api: Any) -> dict[str, Any]:
    return {"api": api}


async def test_gzip_only_at_or_above_min_size(make_cache_settings: Callable[..., Settings]) -> None:
    settings = make_cache_settings(
        latency_optimizer={"compression": {"min_size": 1000, "level": 9}},
        **api(rate_limiting={"enabled": False}),
    )
    app, optimizer = optimized(settings)
    async with client(app) as c:
        small = await c.get("/size/999", headers={"accept-encoding": "gzip"})
        big = await c.get("/size/5000", headers={"accept-encoding": "gzip"})
        plain = await c.get("/size/5000", headers={"accept-encoding": "identity"})
    assert "content-encoding" not in small.headers
    assert big.headers["content-encoding"] == "gzip"
    assert big.headers["vary"] == "Accept-Encoding"
    assert big.text == "x" * 5000  # httpx decodes it
    assert int(big.headers["content-length"]) < 100
    assert "content-encoding" not in plain.headers
    assert optimizer.compressed_in.value == 5000
    assert 0 < optimizer.compressed_out.value < 100


async def test_413_for_a_body_over_max_request_size(
    make_cache_settings: Callable[..., Settings],
) -> None:
    settings = make_cache_settings(**api(max_request_size=100, rate_limiting={"enabled": False}))
    app, optimizer = optimized(settings)
    async with client(app) as c:
        ok = await c.post("/echo", content=b"a" * 100)
        declared = await c.post("/echo", content=b"a" * 101)

        async def chunks() -> Any:
            for _ in range(5):
                yield b"b" * 50

        streamed = await c.post("/echo", content=chunks())
    assert ok.status_code == 200
    assert declared.status_code == 413
    assert streamed.status_code == 413
    assert "limit of 100 bytes" in declared.text
    assert optimizer.rejected["body_too_large"].value == 2


async def test_504_after_request_timeout(make_cache_settings: Callable[..., Settings]) -> None:
    settings = make_cache_settings(**api(request_timeout=1, rate_limiting={"enabled": False}))
    app, optimizer = optimized(settings)
    async with client(app) as c:
        response = await c.get("/slow")
    assert response.status_code == 504
    assert optimizer.rejected["timeout"].value == 1


async def test_a_response_already_started_is_cut_off_not_answered_twice() -> None:
    """Past the deadline after the app sent its status line, no 504 can follow: the timeout
    propagates (the server drops the connection) and the refusal is still counted."""
    sent: list[Any] = []

    async def streaming(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"partial", "more_body": True})
        await asyncio.sleep(5)

    async def record(message: Any) -> None:
        sent.append(message)

    async def nothing() -> Any:
        return {"type": "http.disconnect"}

    rejected = CounterSeries()
    middleware = TimeoutMiddleware(streaming, timeout_s=0.05, rejected=rejected)
    with pytest.raises(TimeoutError):
        await middleware({"type": "http", "path": "/"}, nothing, record)
    assert [m["type"] for m in sent] == ["http.response.start", "http.response.body"]
    assert sent[0]["status"] == 200
    assert rejected.value == 1


async def test_429_with_retry_after_per_client(
    make_cache_settings: Callable[..., Settings],
) -> None:
    settings = make_cache_settings(
        **api(rate_limiting={"default_rate": "2/minute", "burst_rate": "5/minute"})
    )
    app, optimizer = optimized(settings)
    async with client(app, "10.1.1.1") as c, client(app, "10.2.2.2") as other:
        statuses = [(await c.get("/size/1")).status_code for _ in range(4)]
        refused = await c.get("/size/1")
        elsewhere = await other.get("/size/1")
    # burst 5/minute over a sustained 2/minute: a bucket of 3 tokens.
    assert statuses == [200, 200, 200, 429]
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["retry-after"]) <= 30
    assert refused.headers["ratelimit-policy"] == "2;w=60;burst=5"
    assert elsewhere.status_code == 200
    assert elsewhere.headers["ratelimit-policy"] == "2;w=60;burst=5"
    assert optimizer.rejected["rate_limited"].value == 2


async def test_forwarded_header_is_honoured_only_from_trusted_proxies(
    make_cache_settings: Callable[..., Settings],
) -> None:
    limits = {"default_rate": "1/minute", "burst_rate": "2/minute"}
    trusted = make_cache_settings(
        **api(
            rate_limiting={
                **limits,
                "client_header": "X-Forwarded-For",
                "trusted_proxies": ["127.0.0.0/8"],
            }
        )
    )
    app, _ = optimized(trusted)
    async with client(app, "127.0.0.1") as proxy, client(app, "203.0.113.9") as stranger:
        # Through the trusted proxy, each forwarded client has its own bucket.
        spread = [
            (await proxy.get("/size/1", headers={"x-forwarded-for": f"10.0.0.{i}"})).status_code
            for i in range(5)
        ]
        # A client claiming other identities directly is still one client.
        spoofed = [
            (await stranger.get("/size/1", headers={"x-forwarded-for": f"10.9.0.{i}"})).status_code
            for i in range(3)
        ]
    assert spread == [200] * 5
    assert spoofed == [200, 429, 429]


def test_client_identity_walks_the_forwarding_chain() -> None:
    identity = ClientIdentity("X-Forwarded-For", ["10.0.0.0/8"])
    scope = {"client": ("10.0.0.1", 1), "headers": [(b"x-forwarded-for", b"1.2.3.4, 10.0.0.7")]}
    assert identity.client(scope) == "1.2.3.4"
    assert ClientIdentity(None, []).client(scope) == "10.0.0.1"
    with pytest.raises(ValueError, match="trusted_proxies"):
        ClientIdentity("X-Forwarded-For", ["not-an-address"])


def test_token_bucket_arithmetic() -> None:
    now = [0.0]
    limiter = LocalRateLimiter("60/minute", "120/minute", clock=lambda: now[0])
    assert [limiter.take("c") for _ in range(60)] == [0.0] * 60
    assert limiter.take("c") == pytest.approx(1.0)
    now[0] += 1.0
    assert limiter.take("c") == 0.0
    assert parse_rate("5/hour") == (5, 3600.0)


@pytest.mark.integration
async def test_limits_are_shared_through_redis(
    redis_server: RedisServer, make_cache_settings: Callable[..., Settings]
) -> None:
    settings = make_cache_settings(
        redis_server, **api(rate_limiting={"default_rate": "1/minute", "burst_rate": "3/minute"})
    )
    cache = CacheManager(settings, registry=MetricRegistry())
    try:
        first, _ = optimized(settings, cache=cache)
        second, _ = optimized(settings, cache=cache)
        async with client(first) as a, client(second) as b:
            statuses = [
                (await a.get("/size/1")).status_code,
                (await b.get("/size/1")).status_code,
                (await a.get("/size/1")).status_code,
            ]
        assert statuses == [200, 200, 429]  # two replicas, one bucket of 2
        redis_server.kill()
        async with client(first, "10.7.7.7") as a:
            assert (await a.get("/size/1")).status_code == 200  # local fallback, no failure
    finally:
        await cache.close()


@pytest.mark.integration
async def test_without_a_cache_the_optimizer_opens_a_wired_redis_tier_and_closes_it(
    redis_server: RedisServer, make_cache_settings: Callable[..., Settings]
) -> None:
    """The optimizer's own tier comes from the one factory: its breaker opens after
    ``failure_threshold`` failures and publishes the state; ``close()`` closes its pool."""
    breaker = {"redis_cache": {"circuit_breaker": {"failure_threshold": 1}}}
    settings = make_cache_settings(redis_server, caching=breaker)
    app, optimizer = optimized(settings)
    async with client(app) as c:
        assert (await c.get("/size/1")).status_code == 200
    tier = optimizer._own_tier
    assert tier is not None
    assert await tier.client.exists("plexichat:__ratelimit__:127.0.0.1") == 1
    await optimizer.close()
    assert optimizer._own_tier is None
    assert not any(c.is_connected for c in tier.pool._available_connections)
    assert tier.pool._in_use_connections == set()

    app, optimizer = optimized(settings)
    redis_server.kill()
    async with client(app) as c:
        assert (await c.get("/size/1")).status_code == 200  # local buckets meanwhile
    states = values(optimizer.registry, "plexichat.cache.tier.state")
    assert {dict(key)["cache.tier.state"]: value for key, value in states.items()} == {
        "open": 1,
        "closed": 0,
        "half_open": 0,
    }
    await optimizer.close()


async def test_rejections_are_measured_by_the_telemetry(
    make_cache_settings: Callable[..., Settings],
) -> None:
    settings = make_cache_settings(
        **api(rate_limiting={"default_rate": "1/minute", "burst_rate": "2/minute"})
    )
    app = make_app()
    registry = MetricRegistry()
    telemetry = instrument_app(app, settings, registry=registry)
    assert telemetry is not None
    LatencyOptimizer(settings, registry=registry).optimize_app(app)
    names = [m.cls.__name__ for m in app.user_middleware]  # type: ignore[attr-defined]
    assert names[:2] == ["TelemetryMiddleware", "RateLimitMiddleware"]
    try:
        async with client(app) as c:
            await c.get("/size/1")
            await c.get("/size/1")
            # Refused before routing: no http.route, as for any unrouted request.
            series = telemetry.http_duration.series(("GET", None, 429, None))
        assert isinstance(series, HistogramSeries)
        assert series.count == 1
    finally:
        telemetry.shutdown()


async def test_disabled_optimizer_leaves_the_app_alone(
    make_cache_settings: Callable[..., Settings],
) -> None:
    app, _ = optimized(make_cache_settings(latency_optimizer={"enabled": False}))
    assert app.user_middleware == []


async def test_optimize_context_times_and_bounds_concurrency(
    make_cache_settings: Callable[..., Settings],
) -> None:
    optimizer = LatencyOptimizer(
        make_cache_settings(async_settings={"max_workers": 2}), registry=MetricRegistry()
    )
    running = peak = 0

    async def operation() -> None:
        nonlocal running, peak
        async with optimizer.optimize_context("guide_operation"):
            running += 1
            peak = max(peak, running)
            await asyncio.sleep(0.01)
            running -= 1

    await asyncio.gather(*(operation() for _ in range(6)))
    assert peak == 2
    series = optimizer._perf._timers.series(("guide_operation",))
    assert isinstance(series, HistogramSeries)
    assert series.count == 6


def test_gzip_body_is_real_gzip() -> None:
    assert gzip.decompress(gzip.compress(b"x")) == b"x"
