"""The ``active_users`` business metric: distinct users who wrote in the last 15 minutes.

A user is active when they created a post, a comment or sent a message within ``window_s``
(15 minutes by default). The tracker lives in memory and is updated on those writes, so no request
pays for a database query; a background task publishes the count as the ``active_users`` gauge
every ``performance.metrics_collection_interval`` seconds. The count is per process and starts at
zero after a restart -- the service runs one worker.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

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


async def publish_active_users(
    tracker: ActiveUsers, metrics: MetricsRecorder, interval_s: float
) -> None:
    """Record the ``active_users`` gauge now and every ``interval_s`` seconds, until cancelled."""
    while True:
        metrics.record_gauge("active_users", tracker.count())
        await asyncio.sleep(interval_s)
