"""L2: the shared Redis tier (redis-py asyncio), behind a circuit breaker.

One pooled client (``BlockingConnectionPool`` of ``max_connections``, ``db``, ``password``) with
``socket_timeout_seconds`` as connect and read timeout, no client-side retries, and each
command also bounded by that timeout: a dead or slow Redis costs at most one timeout per
command while the breaker is closed, and nothing once it is open. Every command is a span
(``redis GET`` ...) under a sampled request. Keys are ``key_prefix`` + the cache key; pattern
deletes walk ``SCAN MATCH`` (never ``KEYS``) and delete with ``UNLINK``.

A failed command raises :class:`TierUnavailableError`; the manager falls back to L1.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from plexichat.observability.tracing import spans

from .breaker import CircuitBreaker, State

if TYPE_CHECKING:
    from plexichat.config.performance import RedisCacheConfig

T = TypeVar("T")
log = logging.getLogger("plexichat.performance")
SCAN_COUNT = 500
_GLOB = re.compile(r"([*?\[\]\\])")


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
    def __init__(
        self,
        config: RedisCacheConfig,
        *,
        breaker: CircuitBreaker,
    ) -> None:
        self.config = config
        self.prefix = config.key_prefix
        self.timeout = config.socket_timeout_seconds
        self.breaker = breaker
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
        return self.breaker.state

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

        async def get_with_ttl() -> list[Any]:
            pipe = self.client.pipeline(transaction=False)
            pipe.get(self.prefix + key)
            pipe.pttl(self.prefix + key)
            result: list[Any] = await pipe.execute()
            return result

        value, ttl_ms = await self.call("GET", get_with_ttl)
        if value is None:
            return None
        return bytes(value), (ttl_ms / 1000 if ttl_ms and ttl_ms > 0 else 0.0)

    async def mget(self, keys: list[str]) -> list[bytes | None]:
        if not keys:
            return []
        values: list[Any] = await self.call(
            "MGET", lambda: self.client.mget([self.prefix + k for k in keys])
        )
        return [None if v is None else bytes(v) for v in values]

    async def set(self, key: str, data: bytes, ttl: float, notify: bytes | None = None) -> None:
        """``SET key data PX ttl``; with ``notify``, also publish it on the invalidation
        channel, in the same round trip."""

        async def run() -> None:
            pipe = self.client.pipeline(transaction=False)
            pipe.set(self.prefix + key, data, px=max(1, int(ttl * 1000)))
            if notify is not None:
                pipe.publish(self.channel, notify)
            await pipe.execute()

        await self.call("SET", run)

    async def delete(self, key: str, notify: bytes | None = None) -> None:
        async def run() -> None:
            pipe = self.client.pipeline(transaction=False)
            pipe.unlink(self.prefix + key)
            if notify is not None:
                pipe.publish(self.channel, notify)
            await pipe.execute()

        await self.call("UNLINK", run)

    async def delete_keys(self, keys: list[str], notify: bytes | None = None) -> None:
        async def run() -> None:
            pipe = self.client.pipeline(transaction=False)
            pipe.unlink(*(self.prefix + k for k in keys))
            if notify is not None:
                pipe.publish(self.channel, notify)
            await pipe.execute()

        await self.call("UNLINK", run)

    async def delete_pattern(self, pattern: str) -> int:
        """Delete every key matching ``pattern`` (after the prefix): SCAN, then UNLINK."""
        match = escape_glob(self.prefix) + pattern
        deleted = 0
        cursor: int = 0
        while True:
            cursor, keys = await self._scan(cursor, match)
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
        return f"{self.prefix}__invalidate__"

    async def publish(self, message: bytes) -> None:
        await self.call("PUBLISH", lambda: self.client.publish(self.channel, message))

    async def close(self) -> None:
        await self.client.aclose()
        await self.pool.disconnect()
