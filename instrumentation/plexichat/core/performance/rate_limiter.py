"""Token buckets per client, in process or shared through Redis.

``api.rate_limiting``: ``default_rate`` is the sustained rate, ``burst_rate`` the most a client
may send within one period of it. A bucket refills at ``default_rate`` and holds
``burst - default`` tokens (at least one), so a client idle for a while may send
``burst_rate`` requests in one period, then ``default_rate`` per period.

:class:`LocalRateLimiter` keeps buckets in the process (at most ``MAX_CLIENTS``, the longest
idle dropped first). :class:`RedisRateLimiter` keeps them in Redis (one small hash per client,
updated atomically by a Lua script) so replicas share limits; while Redis is unreachable it
falls back to the local buckets, so a Redis outage never fails or blocks a request.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Protocol

from plexichat.config.scalars import parse_rate
from plexichat.core.performance.cache.redis import RedisTier, TierUnavailableError

MAX_CLIENTS = 100_000


class RateLimiter(Protocol):
    """What the rate-limit middleware needs of a limiter: :meth:`acquire` and the policy it enforces
    (``policy``: the ``RateLimit-Policy`` header value, e.g. ``100;w=60;burst=200``;
    ``policy_text``: the same for people, in the 429 body)."""

    policy: str
    policy_text: str

    async def acquire(self, client: str) -> float:
        """Take one token for ``client``: 0 when allowed, else seconds until one is due."""
        ...


class _Spec:
    def __init__(self, default_rate: str, burst_rate: str) -> None:
        count, period = parse_rate(default_rate)
        burst_count, burst_period = parse_rate(burst_rate)
        self.rate = count / period  # tokens per second
        burst_in_period = burst_count / burst_period * period
        self.capacity = max(1.0, burst_in_period - count)
        self.policy = f"{count};w={period:g};burst={burst_in_period:g}"
        self.policy_text = f"{default_rate} (burst {burst_rate}) per client"


class LocalRateLimiter:
    """Token buckets in this process, one per client (at most ``MAX_CLIENTS``, the longest idle
    dropped first). Each worker and replica enforces the limit on its own.

    Args:
        default_rate: The sustained rate, e.g. ``"100/minute"``.
        burst_rate: The most a client may send within one period of ``default_rate``, e.g.
            ``"200/minute"``.
        clock: Monotonic seconds (tests pass a fake one).

    Raises:
        ValueError: A rate that is not ``N/second``, ``N/minute`` or ``N/hour``.
    """

    def __init__(
        self, default_rate: str, burst_rate: str, clock: Callable[[], float] = time.monotonic
    ) -> None:
        spec = _Spec(default_rate, burst_rate)
        self.rate = spec.rate
        self.capacity = spec.capacity
        self.policy = spec.policy
        self.policy_text = spec.policy_text
        self._clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    async def acquire(self, client: str) -> float:
        """Take one token for ``client``: 0 when allowed, else seconds until one is due (never
        waits)."""
        return self.take(client)

    def take(self, client: str) -> float:
        """The synchronous :meth:`acquire` (the Redis limiter's fallback calls it directly)."""
        now = self._clock()
        tokens, last = self._buckets.pop(client, (self.capacity, now))
        tokens = min(self.capacity, tokens + (now - last) * self.rate)
        wait = 0.0
        if tokens >= 1:
            tokens -= 1
        else:
            wait = (1 - tokens) / self.rate
        self._buckets[client] = (tokens, now)
        if len(self._buckets) > MAX_CLIENTS:
            self._buckets.popitem(last=False)
        return wait


# KEYS[1] bucket; ARGV: rate per s, capacity, now (s), ttl (s). Returns wait in ms (0: allowed).
_SCRIPT = """
local b = redis.call('HMGET', KEYS[1], 't', 'l')
local rate, cap, now = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local tokens, last = tonumber(b[1]), tonumber(b[2])
if tokens == nil then tokens = cap; last = now end
tokens = math.min(cap, tokens + math.max(0, now - last) * rate)
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = math.ceil((1 - tokens) / rate * 1000) end
redis.call('HSET', KEYS[1], 't', tostring(tokens), 'l', tostring(now))
redis.call('EXPIRE', KEYS[1], ARGV[4])
return wait
"""


class RedisRateLimiter:
    """Token buckets in Redis, shared by every worker and replica: one hash per client among the
    Redis tier's keys, updated atomically by a Lua script, expiring a minute after it would be full
    again.

    While Redis does not answer (breaker open, timeout), this process's own buckets take over, so an
    outage never fails or blocks a request (each replica then limits on its own).

    Args:
        default_rate: The sustained rate, e.g. ``"100/minute"``.
        burst_rate: The most a client may send within one period of ``default_rate``.
        redis: The Redis tier (the owner of the bucket keys).
    """

    def __init__(self, default_rate: str, burst_rate: str, redis: RedisTier) -> None:
        self.local = LocalRateLimiter(default_rate, burst_rate)
        self.policy = self.local.policy
        self.policy_text = self.local.policy_text
        self._take = redis.bucket_script(_SCRIPT)
        self._ttl = int(self.local.capacity / self.local.rate) + 60

    async def acquire(self, client: str) -> float:
        """Take one token for ``client`` (in Redis, else locally): 0 when allowed, else seconds
        until one is due."""
        args = [self.local.rate, self.local.capacity, time.time(), self._ttl]
        try:
            wait_ms = await self._take(client, args)
        except TierUnavailableError:
            return self.local.take(client)
        return wait_ms / 1000
