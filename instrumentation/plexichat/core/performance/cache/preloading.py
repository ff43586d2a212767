"""Resource preloading (``latency_optimizer.preloading``): hot keys warmed into L1.

Every top-level cache lookup counts an access of its key. A key read ``preload_threshold``
times becomes *hot*: it is recorded in the shared hot set (a Redis sorted set,
``<key_prefix>__hot__``, scored by the moment it became hot). :meth:`Preloader.warm` -- run
when a cache starts, so a new or restarted replica begins with the fleet's hot data -- reads
the hot keys, newest first, from L2 into L1 until their serialised size reaches
``cache_size``. Without the Redis tier there is nothing shared to preload from: counting still
happens, warming does nothing.

Access counts are kept for at most ``MAX_TRACKED`` keys; when full, every count is halved and
the zeros dropped (old popularity fades, memory stays bounded).

Both run on the cache's task runner: marking a key hot is a ``hot_key_share`` task (retried
under ``background_tasks`` when Redis fails), warming a ``cache_preload`` task
(``CacheManager.start``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from plexichat.core.performance.cache.redis import TierUnavailableError

if TYPE_CHECKING:
    from plexichat.config.performance import PreloadingConfig
    from plexichat.core.performance.cache.memory import MemoryCache
    from plexichat.core.performance.cache.redis import RedisTier
    from plexichat.core.performance.task_runner import TaskRunner

MAX_TRACKED = 50_000
WARM_BATCH = 200


class Preloader:
    """Counts accesses per key and warms L1 from the fleet's hot set (see the module docstring).

    Built by the cache manager, which calls :meth:`touch` on every top-level lookup and :meth:`warm`
    when it starts. ``hot`` holds the keys this process knows to be hot; ``preloaded`` counts the
    entries warmed so far.

    Args:
        config: ``latency_optimizer.preloading``: ``enabled``, ``preload_threshold`` (accesses) and
            ``cache_size`` (bytes warmed at most).
        redis: The Redis tier holding the hot set; ``None``: accesses are counted, nothing is
            warmed.
        tasks: Runs the ``hot_key_share`` tasks that add newly hot keys to the shared set.
    """

    def __init__(
        self, config: PreloadingConfig, redis: RedisTier | None, tasks: TaskRunner
    ) -> None:
        self.enabled = config.enabled
        self.threshold = config.preload_threshold
        self.cache_size = config.cache_size
        self.redis = redis
        self.tasks = tasks
        self.counts: dict[str, int] = {}
        self.hot: set[str] = set()
        self.preloaded = 0

    def touch(self, key: str) -> None:
        """Count one access of ``key``; mark it hot at the threshold."""
        if not self.enabled:
            return
        count = self.counts.get(key, 0) + 1
        if count > self.threshold:
            return
        if len(self.counts) >= MAX_TRACKED and key not in self.counts:
            self._fade()
        self.counts[key] = count
        if count == self.threshold:
            self.hot.add(key)
            redis = self.redis
            if redis is not None:
                self.tasks.submit("hot_key_share", lambda: redis.mark_hot(key))

    def _fade(self) -> None:
        self.counts = {k: v // 2 for k, v in self.counts.items() if v // 2 > 0}

    async def warm(self, memory: MemoryCache, ttl: float) -> int:
        """Load the shared hot keys from L2 into ``memory``, within ``cache_size``; how many."""
        if not self.enabled or self.redis is None:
            return 0
        redis = self.redis
        budget = self.cache_size
        loaded = 0
        start = 0
        try:
            while budget > 0:
                names = await redis.hot_keys(start, WARM_BATCH)
                if not names:
                    break
                for name, data in zip(names, await redis.mget(names), strict=True):
                    if data is None:
                        continue
                    size = len(data) + len(name.encode())
                    if size > budget:
                        budget = 0
                        break
                    if memory.set(name, data, ttl):
                        budget -= size
                        loaded += 1
                        self.hot.add(name)
                start += WARM_BATCH
        except TierUnavailableError:
            pass
        self.preloaded += loaded
        return loaded
