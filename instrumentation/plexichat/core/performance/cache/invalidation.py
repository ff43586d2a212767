"""Cross-replica L1 invalidation over Redis pub/sub; the message format lives here only.

Every write (``set``, ``delete``, ``invalidate_pattern``, ``clear_cache("redis")``) publishes a
small JSON message on ``<key_prefix>__invalidate__``: ``{"o": origin, "k": [keys]}``,
``{"o": origin, "p": pattern}`` or ``{"o": origin, "c": 1}`` (:func:`keys_message`,
:func:`pattern_message`, :func:`clear_message`). Every replica's subscriber decodes them into an
:class:`Invalidation` and drops the named keys from its L1 (its own messages excepted), so a
replica serves another's stale value for no longer than pub/sub delivery takes (milliseconds).

While the subscription is down, messages can be lost, so the bound is kept another way: the
manager treats L1 entries older than ``STALE_BOUND_S`` as misses, and on re-subscribing the
replica clears its L1 (it may have missed invalidations).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from redis.exceptions import RedisError

from plexichat.core.performance.cache.redis import RedisTier

log = logging.getLogger("plexichat.performance")
STALE_BOUND_S = 5.0
"""The oldest L1 entry served while the invalidation channel is down, in seconds."""
RECONNECT_S = 0.5
"""Pause between attempts to re-subscribe."""
POLL_S = 1.0


@dataclass(frozen=True)
class Invalidation:
    """What another replica announced: keys written or deleted, a pattern deleted, or
    everything cleared."""

    keys: tuple[str, ...] = ()
    pattern: str | None = None
    clear: bool = False


def _encode(origin: str, **fields: Any) -> bytes:
    return json.dumps({"o": origin, **fields}, separators=(",", ":")).encode()


def keys_message(origin: str, keys: Sequence[str]) -> bytes:
    """The message announcing that cache ``origin`` wrote or deleted ``keys``."""
    return _encode(origin, k=list(keys))


def pattern_message(origin: str, pattern: str) -> bytes:
    """The message announcing that cache ``origin`` deleted the keys matching ``pattern``."""
    return _encode(origin, p=pattern)


def clear_message(origin: str) -> bytes:
    """The message announcing that cache ``origin`` cleared the Redis tier."""
    return _encode(origin, c=1)


def decode(data: bytes) -> tuple[str, Invalidation] | None:
    """``(origin, invalidation)`` of a message, or ``None`` when it is not one of ours."""
    try:
        decoded = json.loads(data)
    except ValueError:
        return None
    if not isinstance(decoded, dict) or not isinstance(decoded.get("o"), str):
        return None
    keys = decoded.get("k")
    pattern = decoded.get("p")
    return decoded["o"], Invalidation(
        keys=tuple(k for k in keys if isinstance(k, str)) if isinstance(keys, list) else (),
        pattern=pattern if isinstance(pattern, str) else None,
        clear=bool(decoded.get("c")),
    )


class InvalidationBus:
    """One cache's subscription to the invalidation channel of its Redis tier.

    :meth:`start` runs a task on the event loop that subscribes on a connection of its own, hands
    every message from another cache to ``on_message`` as an :class:`Invalidation`, and after a
    Redis failure subscribes again every ``RECONNECT_S`` seconds, calling ``on_resubscribed`` once
    it is back (the cache clears its L1: it may have missed messages). ``live`` says whether it is
    subscribed now; ``received`` counts the messages handled.

    ``live`` is true only while it is known to be: the subscription's own connection notices a
    dead Redis at its next poll (up to ``POLL_S`` later), but the tier's breaker often knows
    first, so when the breaker opens the bus drops its session at once (``live`` false from that
    moment, L1 entries older than ``STALE_BOUND_S`` are misses) and subscribes again.

    Args:
        tier: The Redis tier whose channel to listen on.
        origin: This cache's id: messages it sent itself are ignored.
        on_message: Called with each invalidation from another cache.
        on_resubscribed: Called each time the subscription is back after a loss.
    """

    def __init__(
        self,
        tier: RedisTier,
        origin: str,
        on_message: Callable[[Invalidation], None],
        on_resubscribed: Callable[[], None],
    ) -> None:
        self.tier = tier
        self.origin = origin
        self._on_message = on_message
        self._on_resubscribed = on_resubscribed
        self._live = False
        self.received = 0
        self._task: asyncio.Task[None] | None = None
        self._session: asyncio.Task[None] | None = None
        self._subscribed = asyncio.Event()
        self._ever_subscribed = False
        tier.on_open(self._tier_failed)

    @property
    def live(self) -> bool:
        """Whether the subscription is up (see the class docstring for when it turns false)."""
        return self._live

    def start(self) -> None:
        """Start the subscriber task on the running loop (idempotent); returns at once,
        :meth:`wait_live` waits for the subscription."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="plexichat-cache-invalidation")

    async def stop(self) -> None:
        """Cancel the subscriber task and wait for it to end; ``live`` is then false."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        self._lost()

    async def wait_live(self, within: float) -> bool:
        """Wait up to ``within`` seconds until subscribed (start-up, tests); whether it is."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(within):
                await self._subscribed.wait()
        return self.live

    def _lost(self) -> None:
        self._live = False
        self._subscribed.clear()

    def _tier_failed(self) -> None:
        if self._live:
            log.warning(
                "cache invalidation channel presumed lost (the redis tier failed); L1 serves "
                "entries at most %.0f s old until it is back",
                STALE_BOUND_S,
            )
        self._lost()
        if self._session is not None:
            self._session.cancel()

    async def _run(self) -> None:
        while True:
            self._session = asyncio.create_task(self._subscribe(), name="plexichat-cache-pubsub")
            try:
                await asyncio.wait({self._session})
            finally:
                self._session.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._session
                self._lost()
            await asyncio.sleep(RECONNECT_S)

    async def _subscribe(self) -> None:
        client = self.tier.subscriber_client()
        try:
            async with client.pubsub() as pubsub:
                async with asyncio.timeout(self.tier.timeout):
                    await pubsub.subscribe(self.tier.channel)
                self._live = True
                self._subscribed.set()
                if self._ever_subscribed:
                    self._on_resubscribed()
                    log.info("cache invalidation channel re-subscribed; L1 cleared")
                self._ever_subscribed = True
                while True:
                    msg = await pubsub.get_message(ignore_subscribe_messages=True, timeout=POLL_S)
                    if msg is not None and msg.get("type") == "message":
                        self._handle(msg["data"])
        except (RedisError, OSError, TimeoutError) as exc:
            if self._live:
                log.warning(
                    "cache invalidation channel lost (%s); L1 serves entries at most %.0f s "
                    "old until it is back",
                    type(exc).__name__,
                    STALE_BOUND_S,
                )
        finally:
            self._lost()
            with contextlib.suppress(Exception):
                await client.aclose()

    def _handle(self, data: bytes) -> None:
        decoded = decode(data)
        if decoded is None or decoded[0] == self.origin:
            return
        self.received += 1
        self._on_message(decoded[1])
