"""The ``active_users`` business metric: distinct users who wrote in the last 15 minutes.

A user is active when they created a post, a comment or sent a message within ``window_s``
(15 minutes by default). Writes are noted in memory (no request pays for a query); a background
task publishes the count as the ``active_users`` gauge every
``performance.metrics_collection_interval`` seconds.

A distinct count cannot be summed over processes (a user who wrote through two workers, or two
replicas, is one user), so with the Redis tier (which several workers or replicas require) the
writes go to one sorted set in Redis (:meth:`RedisTier.active_users`) and every process
publishes the same instance-wide count (the gauge's merge is ``latest``; dashboards take the
``max`` over instances). Without Redis the count is the process's own, which is the service's
when it runs as one process. If Redis cannot be reached, the gauge keeps its last value and the
writes wait for the next publication.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from plexichat.core.performance.cache.redis import RedisTier, TierUnavailableError
from plexichat.service.metrics import MetricsRecorder

ACTIVE_WINDOW_S = 15 * 60.0
"""How recently a user must have written to count as active, in seconds."""


class ActiveUsers:
    """Last-write times per user, kept in last-write order so expiry pops from the front."""

    def __init__(
        self, window_s: float = ACTIVE_WINDOW_S, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if window_s <= 0:
            raise ValueError(f"window_s must be positive, got {window_s}")
        self._window_s = window_s
        self._clock = clock
        self._last_write: dict[int, float] = {}

    def touch(self, user_id: int) -> None:
        """Record that ``user_id`` wrote just now."""
        self._last_write.pop(user_id, None)
        self._last_write[user_id] = self._clock()

    def count(self) -> int:
        """The number of users who wrote within the window; forgets the others."""
        horizon = self._clock() - self._window_s
        while self._last_write:
            user_id, seen = next(iter(self._last_write.items()))
            if seen >= horizon:
                break
            del self._last_write[user_id]
        return len(self._last_write)


class SharedActiveUsers:
    """Active users of every process that shares the Redis tier."""

    def __init__(
        self,
        tier: RedisTier,
        window_s: float = ACTIVE_WINDOW_S,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if window_s <= 0:
            raise ValueError(f"window_s must be positive, got {window_s}")
        self._tier = tier
        self._window_s = window_s
        self._clock = clock
        self._writes: dict[int, float] = {}

    def touch(self, user_id: int) -> None:
        """Record that ``user_id`` wrote just now (sent to Redis at the next count)."""
        self._writes[user_id] = self._clock()

    async def shared_count(self) -> int | None:
        """The instance-wide count, or ``None`` when Redis cannot be reached."""
        writes, self._writes = self._writes, {}
        try:
            return await self._tier.active_users(writes, self._clock() - self._window_s)
        except TierUnavailableError:
            self._writes = {**writes, **self._writes}
            return None


async def _current(tracker: ActiveUsers | SharedActiveUsers) -> int | None:
    if isinstance(tracker, SharedActiveUsers):
        return await tracker.shared_count()
    return tracker.count()


async def publish_active_users(
    tracker: ActiveUsers | SharedActiveUsers, metrics: MetricsRecorder, interval_s: float
) -> None:
    """Record the ``active_users`` gauge now and every ``interval_s`` seconds, until cancelled."""
    while True:
        count = await _current(tracker)
        if count is not None:
            metrics.record_gauge("active_users", count)
        await asyncio.sleep(interval_s)
