"""``LatencyOptimizer``: the guide's latency optimizer for an ASGI (FastAPI/Starlette) app.

``LatencyOptimizer().optimize_app(app)`` adds, right inside the telemetry middleware (so
rejections are measured like any response), outermost first:

1. rate limiting per client (``api.rate_limiting``: 429 with ``Retry-After``; in process, or in
   Redis when ``caching.redis_cache`` is enabled so replicas share limits), except on
   ``observability.excluded_paths`` (``/metrics``, probes);
2. the request size limit (``api.max_request_size``: 413);
3. the request timeout (``api.request_timeout``: 504);
4. gzip (``latency_optimizer.compression``: responses of at least ``min_size`` at ``level``).

``latency_optimizer.enabled: false`` leaves the app as it is. Calling it twice changes nothing.
Rejections count in ``plexichat.http.server.rejected{reason}`` (``rate_limited``,
``body_too_large``, ``timeout``); compressed responses add their sizes to
``plexichat.http.server.compression.input`` and ``.output`` (By) -- output / input is the
compression ratio.

Shared rate limits use the cache's Redis tier (``cache=``); without a cache, the optimizer opens
a Redis tier of its own the same way the cache does (:func:`.cache.redis.redis_tier`: its
breaker, timeouts and state metric), and ``await optimizer.close()`` closes it.

``async with optimizer.optimize_context(name):`` runs a block among at most
``async_settings.max_workers`` such blocks at once, timed as operation ``name`` in
``plexichat.operation.duration`` (a span under a sampled request).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from starlette.middleware import Middleware

from plexichat.core.logging_unified import PerformanceLogger
from plexichat.core.performance.cache.redis import RedisTier, redis_tier
from plexichat.core.performance.client_identity import ClientIdentity
from plexichat.core.performance.middleware import (
    BodySizeLimitMiddleware,
    GzipMiddleware,
    RateLimitMiddleware,
    TimeoutMiddleware,
)
from plexichat.core.performance.rate_limiter import LocalRateLimiter, RateLimiter, RedisRateLimiter
from plexichat.observability.metrics.registry import DEFAULT_REGISTRY, MetricRegistry
from plexichat.observability.middleware import TelemetryMiddleware

if TYPE_CHECKING:
    from starlette.applications import Starlette

    from plexichat.config import Settings
    from plexichat.core.performance.cache import CacheManager

_STATE_KEY = "plexichat_latency_optimizer"
REASONS = ("rate_limited", "body_too_large", "timeout")


class LatencyOptimizer:
    """The guide's latency optimizer: rate limiting, a request size limit, a timeout and gzip for an
    ASGI app, and a concurrency budget for operations.

    ``optimize_app(app)`` adds the middleware configured under ``performance.api`` and
    ``performance.latency_optimizer.compression`` just inside the telemetry middleware, so
    rejections are measured like any response (``plexichat.http.server.rejected{reason}``);
    ``optimize_context(name)`` runs a block among at most ``async_settings.max_workers`` others,
    timed as operation ``name``. With ``latency_optimizer.enabled: false``, ``optimize_app`` leaves
    the app as it is; calling it twice changes nothing.

    Args:
        settings: Where ``performance`` comes from; ``None`` loads the settings the usual way
            (files, ``PLEXICHAT_*`` variables).
        registry: Where the rejection, compression and timer metrics are recorded; default
            ``DEFAULT_REGISTRY``.
        cache: A ``CacheManager`` whose Redis tier keeps rate-limit buckets shared by the replicas.
            Without one, the optimizer opens a Redis tier of its own when ``caching.redis_cache`` is
            enabled; ``await optimizer.close()`` closes it.

    Example::

        optimizer = LatencyOptimizer()
        app = optimizer.optimize_app(app)

        async def optimized_operation():
            async with optimizer.optimize_context("fetch_posts"):
                return await some_database_operation()
    """

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        registry: MetricRegistry | None = None,
        cache: CacheManager | None = None,
    ) -> None:
        if settings is None:
            from plexichat.config import load_settings

            settings = load_settings()
        self.settings = settings
        self.registry = registry if registry is not None else DEFAULT_REGISTRY
        self.cache = cache
        rejected = self.registry.instrument("plexichat.http.server.rejected")
        self.rejected = {r: rejected.counter((r,)) for r in REASONS}
        instrument = self.registry.instrument
        self.compressed_in = instrument("plexichat.http.server.compression.input").counter()
        self.compressed_out = instrument("plexichat.http.server.compression.output").counter()
        self._perf = PerformanceLogger(self.registry)
        self._workers = asyncio.Semaphore(settings.performance.async_settings.max_workers)
        self.limiter: RateLimiter | None = None
        self._own_tier: RedisTier | None = None

    def rate_limiter(self) -> RateLimiter:
        """Redis-backed when the Redis tier is configured, else in process."""
        limits = self.settings.performance.api.rate_limiting
        redis = self.cache.redis if self.cache is not None else None
        if redis is None:
            if self._own_tier is None:
                self._own_tier = redis_tier(
                    self.settings.performance.caching.redis_cache, registry=self.registry
                )
            redis = self._own_tier
        if redis is not None:
            return RedisRateLimiter(limits.default_rate, limits.burst_rate, redis)
        return LocalRateLimiter(limits.default_rate, limits.burst_rate)

    def middleware(self) -> list[Middleware]:
        """The middleware ``optimize_app`` adds, outermost first."""
        perf = self.settings.performance
        api = perf.api
        stack: list[Middleware] = []
        if api.rate_limiting.enabled:
            self.limiter = self.rate_limiter()
            stack.append(
                Middleware(
                    RateLimitMiddleware,
                    limiter=self.limiter,
                    identity=ClientIdentity(
                        api.rate_limiting.client_header, api.rate_limiting.trusted_proxies
                    ),
                    rejected=self.rejected["rate_limited"],
                    exempt_paths=tuple(perf.observability.excluded_paths),
                )
            )
        stack.append(
            Middleware(
                BodySizeLimitMiddleware,
                max_size=api.max_request_size,
                rejected=self.rejected["body_too_large"],
            )
        )
        stack.append(
            Middleware(
                TimeoutMiddleware,
                timeout_s=float(api.request_timeout),
                rejected=self.rejected["timeout"],
            )
        )
        compression = perf.latency_optimizer.compression
        if compression.enabled:
            stack.append(
                Middleware(
                    GzipMiddleware,
                    min_size=compression.min_size,
                    level=compression.level,
                    bytes_in=self.compressed_in,
                    bytes_out=self.compressed_out,
                )
            )
        return stack

    def optimize_app(self, app: Starlette) -> Starlette:
        """Add the optimizer's middleware to ``app`` (see the module docstring); returns it."""
        if not self.settings.performance.latency_optimizer.enabled:
            return app
        if getattr(app.state, _STATE_KEY, None) is not None:
            return app
        classes: list[object] = [m.cls for m in app.user_middleware]
        at = classes.index(TelemetryMiddleware) + 1 if TelemetryMiddleware in classes else 0
        app.user_middleware[at:at] = self.middleware()
        app.middleware_stack = None
        setattr(app.state, _STATE_KEY, self)
        return app

    async def close(self) -> None:
        """Close the Redis tier the optimizer opened for itself (none when given a cache)."""
        if self._own_tier is not None:
            await self._own_tier.close()
            self._own_tier = None

    @asynccontextmanager
    async def optimize_context(self, name: str = "optimized_operation") -> AsyncIterator[None]:
        """Run the block within the ``max_workers`` budget, timed as operation ``name``."""
        async with self._workers, self._perf.timer(name):
            yield
