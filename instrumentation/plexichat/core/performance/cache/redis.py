"""L2: the shared Redis tier (redis-py asyncio), behind a circuit breaker; the owner of the
Redis keyspace.

One pooled client (``BlockingConnectionPool`` of ``max_connections``, ``db``, ``password``) with
``socket_timeout_seconds`` as connect and read timeout, no client-side retries, and each
command also bounded by that timeout: a dead or slow Redis costs at most one timeout per
command while the breaker is closed, and nothing once it is open. The breaker
(``redis_cache.circuit_breaker``) reports its state as ``plexichat.cache.tier.state`` and a
line in the performance log. Every command is a span (``redis GET`` ...) under a sampled
request. A failed command raises :class:`TierUnavailableError`; callers fall back (the
manager to L1, the rate limiter to local buckets).

Every key is built here, all under ``key_prefix``:

==============================  ===============================================================
``<prefix><key>``               a cache entry (``CacheManager`` keys; ``SCAN MATCH`` pattern
                                deletes and ``clear_cache`` reach only these)
``<prefix>__hot__``             the fleet's hot keys (sorted set, score: when they became hot)
``<prefix>__ratelimit__:<id>``  one client's rate-limit bucket (hash)
``<prefix>__active_users__``    who wrote lately (sorted set: user id, score: last write time)
``<prefix>__invalidate__``      the invalidation pub/sub channel (not a key)
==============================  ===============================================================

Names after the prefix starting with ``__`` are the tier's own: a cache key starting with
``__`` is refused (``ValueError``), and pattern deletes skip them.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from plexichat.core.performance.cache.breaker import STATES, CircuitBreaker, State
from plexichat.observability.metrics.registry import DEFAULT_REGISTRY, MetricRegistry
from plexichat.observability.tracing import spans

if TYPE_CHECKING:
    from plexichat.config.performance import RedisCacheConfig

T = TypeVar("T")
log = logging.getLogger("plexichat.performance")
SCAN_COUNT = 500
_GLOB = re.compile(r"([*?\[\]\\])")
OWN = "__"
"""Names after the prefix that start with this are the tier's own keys, not cache entries."""
HOT_SET = "__hot__"
RATE_LIMIT = "__ratelimit__:"
ACTIVE_USERS = "__active_users__"
CHANNEL = "__invalidate__"


class TierUnavailableError(Exception):
    """The Redis tier did not answer (breaker open, timeout, connection or protocol error).

    ``attempted`` is false when the breaker refused the call without trying."""

    def __init__(self, message: str, *, attempted: bool = True) -> None:
        super().__init__(message)
        self.attempted = attempted


def escape_glob(text: str) -> str:
    """``text`` with Redis glob characters escaped, for a literal ``MATCH`` prefix."""
    return _GLOB.sub(r"\\\1", text)


class RedisTier:
    """One Redis connection pool, its circuit breaker and the keyspace under ``key_prefix``.

    Build it with :func:`redis_tier` (``None`` when ``redis_cache`` is off); ``close()`` it.
    """

    def __init__(
        self,
        config: RedisCacheConfig,
        *,
        registry: MetricRegistry | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config = config
        self.prefix = config.key_prefix
        self.timeout = config.socket_timeout_seconds
        state = (registry if registry is not None else DEFAULT_REGISTRY).instrument(
            "plexichat.cache.tier.state"
        )
        self._state = {s: state.counter(("redis", s)) for s in STATES}
        self._publish_state("closed")
        breaker = config.circuit_breaker
        self.breaker = CircuitBreaker(
            failure_threshold=breaker.failure_threshold,
            reset_timeout=breaker.reset_timeout_seconds,
            clock=clock,
            on_change=self._state_changed,
        )
        self._on_open: list[Callable[[], None]] = []
        self._own = (self.prefix + OWN).encode()
        self.pool = BlockingConnectionPool(
            host=config.host,
            port=config.port,
            db=config.db,
            password=config.password,
            max_connections=config.max_connections,
            timeout=self.timeout,
            socket_timeout=self.timeout,
            socket_connect_timeout=self.timeout,
            retry=Retry(NoBackoff(), 0),
        )
        self.client = Redis(connection_pool=self.pool)

    def subscriber_client(self) -> Redis:
        """A client of its own for pub/sub: no read timeout (it waits for messages)."""
        c = self.config
        return Redis(
            host=c.host,
            port=c.port,
            db=c.db,
            password=c.password,
            socket_connect_timeout=self.timeout,
            retry=Retry(NoBackoff(), 0),
        )

    @property
    def state(self) -> State:
        """The breaker's state: ``closed`` (Redis in use), ``open`` (skipped) or ``half_open`` (one
        probe under way)."""
        return self.breaker.state

    def _publish_state(self, state: State) -> None:
        for name, series in self._state.items():
            series.value = 1 if name == state else 0

    def on_open(self, listener: Callable[[], None]) -> None:
        """Call ``listener`` each time the breaker opens (Redis has just been seen failing); the
        invalidation bus uses it to stop reporting a subscription that shares Redis's fate."""
        self._on_open.append(listener)

    def _state_changed(self, old: State, new: State) -> None:
        self._publish_state(new)
        if new == "open":
            for listener in self._on_open:
                listener()
        level = logging.WARNING if new == "open" else logging.INFO
        log.log(
            level,
            "cache tier redis state %s (was %s)%s",
            new,
            old,
            "; serving without it until it answers again" if new == "open" else "",
        )

    def entry(self, key: str) -> str:
        """The Redis key of cache key ``key``."""
        if key.startswith(OWN):
            raise ValueError(
                f"cache key {key!r}: keys starting with {OWN!r} are reserved for the Redis "
                "tier's own keys (hot set, rate-limit buckets)"
            )
        return self.prefix + key

    async def call(self, operation: str, command: Callable[[], Awaitable[T]]) -> T:
        """Run one command through the breaker, the timeout and a span."""
        if not self.breaker.allow():
            raise TierUnavailableError("redis circuit breaker is open", attempted=False)
        try:
            if spans.active_tracer() is None:
                async with asyncio.timeout(self.timeout):
                    result = await command()
            else:
                with spans.span(
                    f"redis {operation}",
                    **{"db.system.name": "redis", "db.operation.name": operation},
                ):
                    async with asyncio.timeout(self.timeout):
                        result = await command()
        except (RedisError, OSError, TimeoutError) as exc:
            self.breaker.failure()
            raise TierUnavailableError(
                f"redis {operation} failed: {type(exc).__name__}: {exc}"
            ) from exc
        self.breaker.success()
        return result

    async def get(self, key: str) -> tuple[bytes, float] | None:
        """The value and its remaining time to live in seconds, or ``None``."""

        name = self.entry(key)

        async def get_with_ttl() -> list[Any]:
            pipe = self.client.pipeline(transaction=False)
            pipe.get(name)
            pipe.pttl(name)
            result: list[Any] = await pipe.execute()
            return result

        value, ttl_ms = await self.call("GET", get_with_ttl)
        if value is None:
            return None
        return bytes(value), (ttl_ms / 1000 if ttl_ms and ttl_ms > 0 else 0.0)

    async def mget(self, keys: list[str]) -> list[bytes | None]:
        """The values of cache keys ``keys`` in one round trip, ``None`` for each absent one."""
        if not keys:
            return []
        names = [self.entry(k) for k in keys]
        values: list[Any] = await self.call("MGET", lambda: self.client.mget(names))
        return [None if v is None else bytes(v) for v in values]

    async def set(self, key: str, data: bytes, ttl: float, notify: bytes | None = None) -> None:
        """``SET key data PX ttl``; with ``notify``, also publish it on the invalidation
        channel, in the same round trip."""

        name = self.entry(key)

        async def run() -> None:
            pipe = self.client.pipeline(transaction=False)
            pipe.set(name, data, px=max(1, int(ttl * 1000)))
            if notify is not None:
                pipe.publish(self.channel, notify)
            await pipe.execute()

        await self.call("SET", run)

    async def delete(self, key: str, notify: bytes | None = None) -> None:
        """``UNLINK`` cache key ``key``; with ``notify``, also publish that invalidation message, in
        the same round trip."""
        name = self.entry(key)

        async def run() -> None:
            pipe = self.client.pipeline(transaction=False)
            pipe.unlink(name)
            if notify is not None:
                pipe.publish(self.channel, notify)
            await pipe.execute()

        await self.call("UNLINK", run)

    async def delete_keys(self, keys: list[str], notify: bytes | None = None) -> None:
        """``UNLINK`` several cache keys in one round trip; ``notify`` as for :meth:`delete`."""
        names = [self.entry(k) for k in keys]

        async def run() -> None:
            pipe = self.client.pipeline(transaction=False)
            pipe.unlink(*names)
            if notify is not None:
                pipe.publish(self.channel, notify)
            await pipe.execute()

        await self.call("UNLINK", run)

    async def delete_pattern(self, pattern: str) -> int:
        """Delete every cache entry whose key matches ``pattern``: SCAN, then UNLINK. The
        tier's own keys (hot set, rate-limit buckets) are never matched."""
        match = escape_glob(self.prefix) + pattern
        deleted = 0
        cursor: int = 0
        while True:
            cursor, found = await self._scan(cursor, match)
            keys = [k for k in found if not k.startswith(self._own)]
            if keys:
                deleted += await self._unlink(keys)
            if int(cursor) == 0:
                return deleted

    async def _scan(self, cursor: int, match: str) -> tuple[int, list[bytes]]:
        async def run() -> tuple[int, list[bytes]]:
            found: Any = await self.client.scan(cursor, match=match, count=SCAN_COUNT)
            return int(found[0]), list(found[1])

        return await self.call("SCAN", run)

    async def _unlink(self, keys: list[bytes]) -> int:
        async def run() -> int:
            return int(await self.client.unlink(*keys))

        return await self.call("UNLINK", run)

    @property
    def channel(self) -> str:
        """The pub/sub channel replicas announce writes and invalidations on."""
        return self.prefix + CHANNEL

    async def mark_hot(self, key: str) -> None:
        """Add cache key ``key`` to the fleet's hot set (scored now)."""
        self.entry(key)  # a cache key: the tier's own names are refused
        hot = self.prefix + HOT_SET
        await self.call("ZADD", lambda: self.client.zadd(hot, {key: time.time()}))

    async def active_users(self, writes: dict[int, float], since: float) -> int:
        """Record ``writes`` (user id -> Unix time of their last write), forget writes before
        ``since``, and return how many users wrote since then, across every process."""
        key = self.prefix + ACTIVE_USERS

        async def run() -> int:
            pipe = self.client.pipeline(transaction=True)
            if writes:
                pipe.zadd(key, {str(user): at for user, at in writes.items()})
            pipe.zremrangebyscore(key, "-inf", f"({since}")
            pipe.zcard(key)
            return int((await pipe.execute())[-1])

        return await self.call("ZCARD", run)

    async def hot_keys(self, start: int, count: int) -> list[str]:
        """Cache keys of the hot set, the newest first, from rank ``start``."""
        hot = self.prefix + HOT_SET

        async def run() -> list[Any]:
            found: list[Any] = await self.client.zrevrange(hot, start, start + count - 1)
            return found

        names = await self.call("ZREVRANGE", run)
        return [n.decode() if isinstance(n, bytes) else str(n) for n in names]

    def bucket_script(self, source: str) -> Callable[[str, Sequence[float]], Awaitable[int]]:
        """A Lua script run on one client's rate-limit bucket: ``await run(client, args)``
        (``KEYS[1]`` is the bucket; breaker, timeout and span as for every command)."""
        script = self.client.register_script(source)

        async def run(client: str, args: Sequence[float]) -> int:
            bucket = self.prefix + RATE_LIMIT + client

            async def evaluate() -> int:
                return int(await script(keys=[bucket], args=list(args)))

            return await self.call("EVALSHA", evaluate)

        return run

    async def publish(self, message: bytes) -> None:
        """Publish ``message`` (built by :mod:`.invalidation`) on the invalidation channel."""
        await self.call("PUBLISH", lambda: self.client.publish(self.channel, message))

    async def close(self) -> None:
        """Close the client and disconnect its pool (the invalidation bus closes the subscriber's
        own connection)."""
        await self.client.aclose()
        await self.pool.disconnect()


def redis_tier(
    config: RedisCacheConfig,
    *,
    registry: MetricRegistry | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> RedisTier | None:
    """The Redis tier of ``caching.redis_cache``, or ``None`` when it is disabled: the one
    way the cache manager and the latency optimizer get one."""
    if not config.enabled:
        return None
    return RedisTier(config, registry=registry, clock=clock)
