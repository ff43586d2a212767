"""``CacheManager``: the guide's multi-tier cache (L1 memory, L2 Redis, L3 query results).

Configured from ``performance.caching`` (``memory_cache``, ``redis_cache``, ``query_cache``)
and ``latency_optimizer.preloading``. ``CacheManager()`` loads the settings the usual way
(files, ``PLEXICHAT_*`` variables); pass ``settings=`` to choose.

Reads (``get``, ``@cached``) try L1, then L2; an L2 hit is copied into L1 (read-through, for
the lesser of L1's ``ttl`` and the key's remaining time in Redis). Writes (``set``) go to both
(write-through) and tell the other replicas to drop their L1 copy (pub/sub, see
:mod:`.invalidation`). ``cache_type`` picks the tiers: ``"memory"`` (L1 only), ``"redis"``
(L2 only; L1 when Redis is not configured), ``"multi"`` (both, the default).

Redis down or slow never fails a call: every Redis command is bounded by
``socket_timeout_seconds``, a circuit breaker (``redis_cache.circuit_breaker``) skips Redis
after ``failure_threshold`` consecutive failures and probes it again every
``reset_timeout_seconds``, and meanwhile the cache works from L1. The breaker's state is the
``plexichat.cache.tier.state`` metric and a line in the performance log. The Redis keyspace
(entries, the hot set, rate-limit buckets) belongs to :mod:`.redis`: ``clear_cache("redis")``
and pattern invalidations remove cache entries only.

A value computed on a miss is not stored when the key was written or invalidated while it
was being computed (in this process), so a slow reader cannot put back what a writer removed
(:mod:`.fills`).

Background work -- ``refresh()``'s recomputations, preloading at start, sharing hot keys --
runs on a :class:`~plexichat.core.performance.task_runner.TaskRunner` under
``performance.background_tasks``: the one passed as ``tasks=`` (the service passes its own,
which it closes), else one of the cache's own, closed by ``close()``.
"""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar, cast

from plexichat.core.performance.cache.decorator import cached
from plexichat.core.performance.cache.fills import Fills
from plexichat.core.performance.cache.invalidation import (
    STALE_BOUND_S,
    Invalidation,
    InvalidationBus,
    clear_message,
    keys_message,
    pattern_message,
)
from plexichat.core.performance.cache.kinds import CacheType, Tier
from plexichat.core.performance.cache.memory import MemoryCache
from plexichat.core.performance.cache.preloading import Preloader
from plexichat.core.performance.cache.query import QueryCache
from plexichat.core.performance.cache.redis import RedisTier, TierUnavailableError, redis_tier
from plexichat.core.performance.cache.serialization import dumps, loads
from plexichat.core.performance.cache.stats import (
    CURRENT_LOOKUP,
    CacheMetrics,
    CacheStats,
    LookupScope,
    uncounted,
)
from plexichat.core.performance.task_runner import TaskFailedError, TaskRunner
from plexichat.observability.metrics.registry import DEFAULT_REGISTRY, MetricRegistry

if TYPE_CHECKING:
    from plexichat.config import Settings

P = ParamSpec("P")
R = TypeVar("R")


class CacheManager:
    """The guide's multi-tier cache: L1 in process memory, L2 in Redis (shared by every replica), L3
    the database query cache.

    ``get``, ``set``, ``delete``, ``invalidate_pattern``, ``clear_cache``, ``get_stats`` and the
    ``@cached`` decorator are the guide's API; ``get_or_set``, ``refresh`` and ``delete_many`` go
    beyond it. Each tier is switched on under ``performance.caching``. A Redis that is down or slow
    never fails a call: every command is bounded by a timeout and a circuit breaker, and the cache
    then works from L1 (the module docstring has the details). Values must be JSON data or one of
    the types :mod:`~plexichat.core.performance.cache.serialization` round-trips (``set`` raises
    ``TypeError`` naming any other); with the Redis tier on, a key starting with ``__`` is refused
    with ``ValueError`` (those names belong to the tier itself).

    The first call starts the cache (subscribes to invalidations, preloads hot keys); ``await
    cache.close()`` releases Redis connections and background tasks. Use a cache from one event
    loop: it takes no locks.

    Args:
        settings: Where ``performance.caching`` and the rest come from; ``None`` loads them the
            usual way (``config/performance.yaml`` files, ``PLEXICHAT_*`` variables).
        registry: Where the ``plexichat.cache.*`` metrics are recorded; default
            ``DEFAULT_REGISTRY``, which ``instrument_app`` exports.
        clock: Monotonic seconds for TTLs, the Redis breaker and the eviction rate (tests pass a
            fake one).
        tasks: The task runner for refreshes, preloading and sharing hot keys; default one of the
            cache's own, closed by ``close()``.

    Example::

        cache = CacheManager()

        @cache.cached(ttl=3600, cache_type="memory")
        async def get_user_profile(user_id: str) -> dict:
            return await database.fetch_user(user_id)

        await cache.set("key", value, ttl=1800)
        result = await cache.get("key")
        await cache.invalidate_pattern("user:*")
        stats = await cache.get_stats()
        print(f"Hit ratio: {stats.hit_ratio:.2%}")
    """

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        registry: MetricRegistry | None = None,
        clock: Callable[[], float] = time.monotonic,
        tasks: TaskRunner | None = None,
    ) -> None:
        if settings is None:
            from plexichat.config import load_settings

            settings = load_settings()
        caching = settings.performance.caching
        self.settings = settings
        self.origin = uuid.uuid4().hex
        registry = registry if registry is not None else DEFAULT_REGISTRY
        self.metrics = CacheMetrics(registry, clock)
        mem = caching.memory_cache
        self.memory: MemoryCache | None = (
            MemoryCache(
                mem.max_size,
                mem.ttl,
                mem.eviction_policy,
                clock=clock,
                on_evict=lambda n: self._evicted(n),
            )
            if mem.enabled
            else None
        )
        self.memory_ttl = float(mem.ttl)
        rc = caching.redis_cache
        self.redis_ttl = float(rc.default_ttl)
        self.redis: RedisTier | None = redis_tier(rc, registry=registry, clock=clock)
        self.bus: InvalidationBus | None = (
            InvalidationBus(self.redis, self.origin, self._remote, self._resubscribed)
            if self.redis is not None
            else None
        )
        qc = caching.query_cache
        query_on = (
            qc.enabled and settings.performance.database.query_optimization.enable_query_cache
        )
        self.query = QueryCache(
            qc.model_copy(update={"enabled": query_on}), self.metrics, clock=clock
        )
        self._owns_tasks = tasks is None
        self.tasks = (
            tasks if tasks is not None else TaskRunner.from_settings(settings, registry=registry)
        )
        self.preloader = Preloader(
            settings.performance.latency_optimizer.preloading, self.redis, self.tasks
        )
        self.fills = Fills()
        self._started = False

    # -- life cycle ------------------------------------------------------------------------
    async def start(self) -> None:
        """Subscribe to invalidations and preload hot keys (idempotent; also done lazily by
        the first call that needs it)."""
        if self._started:
            return
        self._started = True
        if self.bus is not None:
            self.bus.start()
            await self.bus.wait_live(self.redis.timeout if self.redis else 0)
        memory = self.memory
        if memory is not None:
            # Awaited: the first lookups find what the fleet found hot. A failure is counted
            # and logged by the runner; the cache then starts without it.
            with contextlib.suppress(TaskFailedError):
                await self.tasks.run(
                    "cache_preload", lambda: self.preloader.warm(memory, self.memory_ttl)
                )
            self._memory_changed()

    async def close(self) -> None:
        """Stop the subscriber and (when the runner is the cache's own) the background
        tasks, close Redis connections."""
        if self._owns_tasks:
            await self.tasks.close()
        if self.bus is not None:
            await self.bus.stop()
        if self.redis is not None:
            await self.redis.close()
        self.query.detach()
        self._started = False

    # -- the guide's API -------------------------------------------------------------------
    async def get(self, key: str, default: Any = None, *, cache_type: CacheType = "multi") -> Any:
        """The cached value of ``key``, or ``default``."""
        await self.start()
        found, value = await self._lookup(key, cache_type)
        self.metrics.looked_up(found)
        self.preloader.touch(key)
        return value if found else default

    async def set(
        self, key: str, value: Any, ttl: float | None = None, *, cache_type: CacheType = "multi"
    ) -> None:
        """Store ``value`` under ``key`` in the tiers of ``cache_type`` for ``ttl`` seconds
        (default: each tier's own ``ttl``/``default_ttl``)."""
        await self.start()
        data = dumps(value)
        self.fills.spoil(key)
        await self._store(key, data, ttl, cache_type, notify=True)

    async def delete(self, key: str) -> None:
        """Remove ``key`` from every tier, on every replica."""
        await self.start()
        self.fills.spoil(key)
        if self.memory is not None and self.memory.delete(key):
            self._memory_changed()
        if self.redis is not None:
            with contextlib.suppress(TierUnavailableError):
                await self.redis.delete(key, notify=keys_message(self.origin, [key]))

    async def delete_many(self, keys: list[str]) -> None:
        """Remove ``keys`` from every tier, on every replica, in one Redis round trip."""
        if not keys:
            return
        await self.start()
        for key in keys:
            self.fills.spoil(key)
            if self.memory is not None:
                self.memory.delete(key)
        self._memory_changed()
        if self.redis is not None:
            with contextlib.suppress(TierUnavailableError):
                await self.redis.delete_keys(keys, notify=keys_message(self.origin, keys))

    async def invalidate_pattern(self, pattern: str) -> int:
        """Remove the keys matching the glob ``pattern`` (``user:*``) from L1 and L2 (``SCAN``,
        never ``KEYS``), on every replica; how many were removed here."""
        await self.start()
        self.fills.spoil_pattern(pattern)
        removed = 0
        if self.memory is not None:
            removed += self.memory.delete_pattern(pattern)
            self._memory_changed()
        if self.redis is not None:
            try:
                removed += await self.redis.delete_pattern(pattern)
                await self.redis.publish(pattern_message(self.origin, pattern))
            except TierUnavailableError:
                pass
        return removed

    async def clear_cache(self, tier: Tier = "all") -> None:
        """Empty ``"memory"`` (this replica's L1), ``"redis"`` (L2, and every replica's L1
        copies of it), ``"query"`` (L3) or ``"all"``."""
        if tier not in ("memory", "redis", "query", "all"):
            raise ValueError(f"clear_cache: tier must be memory, redis, query or all, got {tier!r}")
        await self.start()
        self.fills.spoil_pattern("*")
        if tier in ("memory", "all") and self.memory is not None:
            self.memory.clear()
            self._memory_changed()
        if tier in ("redis", "all") and self.redis is not None:
            try:
                await self.redis.delete_pattern("*")
                await self.redis.publish(clear_message(self.origin))
            except TierUnavailableError:
                pass
        if tier in ("query", "all"):
            self.query.clear()

    async def get_stats(self) -> CacheStats:
        """Counts since this cache was created, in this process only (the fleet's are the
        ``plexichat.cache.*`` metrics).

        The guide's fields: ``hit_ratio`` and ``miss_ratio`` of top-level lookups (a lookup is a hit
        when any tier served it), ``evictions_per_hour`` (L1 and query-cache entries evicted for
        room in the last hour of ``clock``), ``memory_usage_mb`` (L1's keys and serialised values,
        MiB); then the raw counts, the entries per tier, per-tier request results and the Redis
        breaker's state (``closed``, ``open``, ``half_open`` or ``disabled``).
        """
        return self.metrics.snapshot(
            self.memory,
            len(self.query),
            self.redis.state if self.redis is not None else "disabled",
        )

    def cached(
        self,
        ttl: float | None = None,
        cache_type: CacheType = "multi",
        *,
        key: Callable[..., str] | None = None,
    ) -> Callable[[Callable[P, R]], Callable[P, R]]:
        """Cache a function's results by its arguments (see :mod:`.decorator`): async
        functions in the tiers of ``cache_type``, sync functions in L1 only."""
        return cached(self, ttl, cache_type, key)

    # -- beyond the guide ------------------------------------------------------------------
    async def get_or_set(
        self,
        key: str,
        loader: Callable[[], Awaitable[Any]],
        ttl: float | None = None,
        cache_type: CacheType = "multi",
        *,
        cache_none: bool = True,
    ) -> Any:
        """The cached value of ``key``; on a miss, ``await loader()``, store and return it
        (``cache_none=False``: a ``None`` result is not stored). The lookup is a hit when any
        tier -- the query cache inside ``loader`` included -- served it."""
        await self.start()
        found, value = await self._lookup(key, cache_type)
        self.preloader.touch(key)
        if found:
            self.metrics.looked_up(True)
            return value
        scope = LookupScope()
        token = CURRENT_LOOKUP.set(scope)
        fill = self.fills.begin(key)
        try:
            value = await loader()
        finally:
            CURRENT_LOOKUP.reset(token)
            self.fills.end(key, fill)
        self.metrics.looked_up(scope.served)
        if not fill.spoiled and (cache_none or value is not None):
            await self._store(key, dumps(value), ttl, cache_type, notify=False)
        return value

    def get_or_set_sync(self, key: str, loader: Callable[[], R], ttl: float | None = None) -> R:
        """``get_or_set`` for a sync ``loader``, in L1 only (a sync call cannot wait for Redis)."""
        if self.memory is not None:
            data = self.memory.get(key, self._max_age())
            if data is not None:
                self.metrics.requested("memory", "hit")
                self.metrics.looked_up(True)
                return cast(R, loads(data))
            self.metrics.requested("memory", "miss")
        self.metrics.looked_up(False)
        fill = self.fills.begin(key)
        try:
            value = loader()
        finally:
            self.fills.end(key, fill)
        if self.memory is not None and not fill.spoiled:
            self.memory.set(key, dumps(value), self.memory_ttl if ttl is None else ttl)
            self._memory_changed()
        return value

    async def refresh(
        self,
        key: str,
        loader: Callable[[], Awaitable[Any]],
        ttl: float | None = None,
        cache_type: CacheType = "multi",
        *,
        delete_first: bool = True,
    ) -> None:
        """Invalidate ``key`` everywhere now (``delete_first=False``: the caller just did), and
        recompute it in the background (after a write: the next read is a hit on the new
        value). Not counted as a lookup. Refreshes of one key coalesce: while one waits for
        its turn, asking again adds none (it has read nothing yet, so it will see this write
        too)."""
        if delete_first:
            await self.delete(key)
        self.tasks.submit(
            "cache_refresh",
            lambda: self._recompute(key, loader, ttl, cache_type),
            key=f"cache_refresh:{key}",
        )

    # -- internals ---------------------------------------------------------------------------
    async def _recompute(
        self,
        key: str,
        loader: Callable[[], Awaitable[Any]],
        ttl: float | None,
        cache_type: CacheType,
    ) -> None:
        """One refresh attempt: store what ``loader`` read unless ``key`` was written or
        invalidated meanwhile (then a newer refresh is on its way)."""
        fill = self.fills.begin(key)
        try:
            with uncounted():
                value = await loader()
        finally:
            self.fills.end(key, fill)
        if not fill.spoiled:
            await self._store(key, dumps(value), ttl, cache_type, notify=False)

    def _uses(self, cache_type: CacheType) -> tuple[bool, bool]:
        if cache_type not in ("memory", "redis", "multi"):
            raise ValueError(f"cache_type must be memory, redis or multi, got {cache_type!r}")
        use_redis = self.redis is not None and cache_type != "memory"
        use_memory = self.memory is not None and (cache_type != "redis" or self.redis is None)
        return use_memory, use_redis

    def _max_age(self) -> float | None:
        return STALE_BOUND_S if self.bus is not None and not self.bus.live else None

    async def _lookup(self, key: str, cache_type: CacheType) -> tuple[bool, Any]:
        use_memory, use_redis = self._uses(cache_type)
        if use_memory:
            assert self.memory is not None
            data = self.memory.get(key, self._max_age())
            if data is not None:
                self.metrics.requested("memory", "hit")
                return True, loads(data)
            self.metrics.requested("memory", "miss")
        if use_redis:
            assert self.redis is not None
            guard = self.fills.begin(key)
            try:
                found = await self.redis.get(key)
            except TierUnavailableError as exc:
                if exc.attempted:
                    self.metrics.requested("redis", "error")
                return False, None
            finally:
                self.fills.end(key, guard)
            if found is None:
                self.metrics.requested("redis", "miss")
                return False, None
            data, remaining = found
            try:
                value = loads(data)
            except ValueError:
                self.metrics.requested("redis", "error")
                return False, None
            self.metrics.requested("redis", "hit")
            if use_memory and not guard.spoiled:
                assert self.memory is not None
                ttl = min(self.memory_ttl, remaining) if remaining > 0 else self.memory_ttl
                self.memory.set(key, data, ttl)
                self._memory_changed()
            return True, value
        return False, None

    async def _store(
        self, key: str, data: bytes, ttl: float | None, cache_type: CacheType, *, notify: bool
    ) -> None:
        use_memory, use_redis = self._uses(cache_type)
        if use_memory:
            assert self.memory is not None
            self.memory.set(key, data, self.memory_ttl if ttl is None else ttl)
            self._memory_changed()
        if use_redis:
            assert self.redis is not None
            with contextlib.suppress(TierUnavailableError):
                await self.redis.set(
                    key,
                    data,
                    self.redis_ttl if ttl is None else ttl,
                    notify=keys_message(self.origin, [key]) if notify else None,
                )

    def _memory_changed(self) -> None:
        if self.memory is not None:
            self.metrics.memory_bytes.value = self.memory.bytes_used

    def _evicted(self, count: int) -> None:
        self.metrics.evicted("memory", count)

    def _remote(self, invalidation: Invalidation) -> None:
        """An invalidation from another replica."""
        for key in invalidation.keys:
            self.fills.spoil(key)
            if self.memory is not None:
                self.memory.delete(key)
        pattern = invalidation.pattern
        if pattern is not None:
            self.fills.spoil_pattern(pattern)
            if self.memory is not None:
                self.memory.delete_pattern(pattern)
        if invalidation.clear and self.memory is not None:
            self.fills.spoil_pattern("*")
            self.memory.clear()
        self._memory_changed()

    def _resubscribed(self) -> None:
        if self.memory is not None:
            self.memory.clear()
            self._memory_changed()
