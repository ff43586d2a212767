"""The cache's instruments and the ``get_stats()`` snapshot.

Instruments (catalog: ``cache_hit_ratio``):

* ``plexichat.cache.lookups{cache.result}`` -- one per top-level lookup; ``hit`` when any tier
  served it (an L1 miss then an L2 hit is one hit). The Cache Hit Ratio reads this.
* ``plexichat.cache.requests{cache.tier, cache.result}`` -- one per request to a tier
  (``memory``, ``redis``, ``query``); ``error`` when the tier failed to answer.
* ``plexichat.cache.evictions{cache.tier}`` -- entries evicted to make room.
* ``plexichat.cache.memory.usage`` (By) -- bytes held by L1.
* ``plexichat.cache.tier.state`` is published by the Redis tier itself (:mod:`.redis`).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from plexichat.config.sizes import MiB
from plexichat.observability.metrics.registry import MetricRegistry

if TYPE_CHECKING:
    from plexichat.core.performance.cache.memory import MemoryCache

TIERS = ("memory", "redis", "query")
RESULTS = ("hit", "miss", "error")


@dataclass(frozen=True)
class CacheStats:
    """What ``await cache.get_stats()`` returns (the guide's fields first)."""

    hit_ratio: float
    miss_ratio: float
    evictions_per_hour: float
    memory_usage_mb: float
    hits: int
    misses: int
    evictions: int
    memory_entries: int
    query_entries: int
    redis_state: str
    tiers: dict[str, dict[str, int]] = field(default_factory=dict)


class CacheMetrics:
    """Pre-bound series of one cache, plus its own counts for ``get_stats``."""

    def __init__(
        self, registry: MetricRegistry, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._clock = clock
        lookups = registry.instrument("plexichat.cache.lookups")
        requests = registry.instrument("plexichat.cache.requests")
        evictions = registry.instrument("plexichat.cache.evictions")
        memory = registry.instrument("plexichat.cache.memory.usage")
        self.lookup = {r: lookups.counter((r,)) for r in ("hit", "miss")}
        self.request = {(t, r): requests.counter((t, r)) for t in TIERS for r in RESULTS}
        self.eviction = {t: evictions.counter((t,)) for t in ("memory", "query")}
        self.memory_bytes = memory.counter(("memory",))
        self.hits = 0
        self.misses = 0
        self.tier_counts: dict[tuple[str, str], int] = {}
        self._evictions: deque[tuple[float, int]] = deque()
        self.evictions_total = 0

    def looked_up(self, hit: bool) -> None:
        """Count one top-level lookup, a hit when any tier served it (the Cache Hit Ratio)."""
        if hit:
            self.hits += 1
            self.lookup["hit"].value += 1
        else:
            self.misses += 1
            self.lookup["miss"].value += 1

    def requested(self, tier: str, result: str) -> None:
        """Count one request to ``tier`` (``memory``, ``redis``, ``query``) and its ``result``
        (``hit``, ``miss``, ``error``)."""
        self.request[(tier, result)].value += 1
        key = (tier, result)
        self.tier_counts[key] = self.tier_counts.get(key, 0) + 1

    def evicted(self, tier: str, count: int) -> None:
        """Count ``count`` entries of ``tier`` (``memory`` or ``query``) evicted for room now."""
        self.eviction[tier].value += count
        self.evictions_total += count
        self._evictions.append((self._clock(), count))

    def _evictions_last_hour(self) -> int:
        horizon = self._clock() - 3600
        while self._evictions and self._evictions[0][0] < horizon:
            self._evictions.popleft()
        return sum(count for _, count in self._evictions)

    def _tiers(self) -> dict[str, dict[str, int]]:
        return {tier: {r: self.tier_counts.get((tier, r), 0) for r in RESULTS} for tier in TIERS}

    def snapshot(
        self, memory: MemoryCache | None, query_entries: int, redis_state: str
    ) -> CacheStats:
        """``get_stats()``: these counts with the tiers' sizes (``memory`` ``None``: no L1)."""
        total = self.hits + self.misses
        return CacheStats(
            hit_ratio=self.hits / total if total else 0.0,
            miss_ratio=self.misses / total if total else 0.0,
            evictions_per_hour=float(self._evictions_last_hour()),
            memory_usage_mb=memory.bytes_used / MiB if memory else 0.0,
            hits=self.hits,
            misses=self.misses,
            evictions=self.evictions_total,
            memory_entries=len(memory) if memory else 0,
            query_entries=query_entries,
            redis_state=redis_state,
            tiers=self._tiers(),
        )


class LookupScope:
    """Set while a top-level lookup runs its loader: tiers consulted inside it (the query
    cache under a cached function) report to it instead of counting lookups of their own."""

    __slots__ = ("served",)

    def __init__(self) -> None:
        self.served = False


CURRENT_LOOKUP: ContextVar[LookupScope | None] = ContextVar("plexichat_cache_lookup", default=None)


@contextmanager
def uncounted() -> Iterator[None]:
    """Tier requests inside the block are not top-level lookups (refreshes, warming)."""
    token = CURRENT_LOOKUP.set(LookupScope())
    try:
        yield
    finally:
        CURRENT_LOOKUP.reset(token)
