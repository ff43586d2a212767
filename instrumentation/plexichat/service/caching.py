"""What the chat service caches, under which keys, and which writes change what.

============================  ==========================  =====================================
key                           value                       changed by
============================  ==========================  =====================================
``user:{id}``                 the user's profile          registration (written through);
                                                          unknown ids are not cached
``user_posts:{id}:{size}``    the user's newest posts     a post by the user, a comment on
                                                          one of the user's posts
``popular_posts:{size}``      the popular posts           any post or comment
============================  ==========================  =====================================

A listing is cached in two sizes: the route's default ``limit`` and ``MAX_LIMIT``. A request
for ``limit`` reads the smallest size that holds it and slices (both orders are total, so a
shorter listing is a prefix of a longer one). So a write invalidates four keys, not one per
possible ``limit`` (it was 200 keys, on every replica, per post or comment).

Listings are read through the query cache (L3), so a miss in L1/L2 may still be served from
L3. After a write commits, what it changed is invalidated on every replica before the response
goes out (read-your-writes: the writer's next read misses and reads the database), and the
default-size entries are recomputed in the background (``CacheManager.refresh``, tasks of the
service's one runner under ``performance.background_tasks``), so later reads hit on the new
data. Refreshes of one key coalesce: while one is queued, more writes to the key add none. At
start-up :func:`warm_cache` (a ``cache_warm`` task of the same runner) loads the popular posts
and the profiles and listings of the most recent authors, as the guide's ``warm_cache`` does.

Under the ``faults.task_failure_rate`` fault that share of refresh and warm-up attempts
fails before reading, so the background-task alert can be watched firing.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import TypeAdapter
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from plexichat.core.performance import CacheManager
from plexichat.core.performance.cache import uncounted
from plexichat.service import queries
from plexichat.service.db_engine import Database
from plexichat.service.fault_switch import FaultSwitch, InjectedFaultError
from plexichat.service.models import Post, User
from plexichat.service.schemas import PostSummary, UserOut

MAX_LIMIT = 100
"""Listings take ``limit`` 1..100 (the routes' bound), the larger cached size."""
DEFAULT_USER_POSTS_LIMIT = 20
"""The routes' default ``limit``: the smaller cached size, recomputed after a write and warmed
at start-up."""
DEFAULT_POPULAR_LIMIT = 10
WARM_AUTHORS = 100
WARM_SCAN = 1000
"""Warming looks for ``WARM_AUTHORS`` distinct authors among this many newest posts."""

_SUMMARIES = TypeAdapter(list[PostSummary])


def _summaries(rows: Any) -> list[dict[str, Any]]:
    listing: list[dict[str, Any]] = _SUMMARIES.dump_python(
        _SUMMARIES.validate_python(rows, from_attributes=True), mode="json"
    )
    return listing


def cached_size(limit: int, default: int) -> int:
    """The cached listing size that serves ``limit``."""
    return default if limit <= default else MAX_LIMIT


class ServiceCache:
    """The service's reads through the cache tiers, and the invalidation its writes need."""

    def __init__(
        self, cache: CacheManager, database: Database, faults: FaultSwitch | None = None
    ) -> None:
        self.cache = cache
        self.database = database
        self.faults = faults
        self._rng = random.Random()

    async def user(self, session: AsyncSession, user_id: int) -> dict[str, Any] | None:
        """The profile of ``user_id``, or ``None`` when there is no such user."""

        async def load() -> dict[str, Any] | None:
            user = await session.get(User, user_id)
            return None if user is None else UserOut.model_validate(user).model_dump(mode="json")

        found: dict[str, Any] | None = await self._get_or_set(
            f"user:{user_id}", load, cache_none=False
        )
        return found

    async def user_posts(
        self, session: AsyncSession, user_id: int, limit: int
    ) -> list[dict[str, Any]] | None:
        """The user's ``limit`` newest posts, or ``None`` when there is no such user."""
        size = cached_size(limit, DEFAULT_USER_POSTS_LIMIT)

        async def load() -> list[dict[str, Any]] | None:
            rows = await self.cache.query.execute(session, queries.user_posts(user_id, size))
            if not rows and await self.user(session, user_id) is None:
                return None
            return _summaries(rows)

        found: list[dict[str, Any]] | None = await self._get_or_set(
            f"user_posts:{user_id}:{size}", load, cache_none=False
        )
        return None if found is None else found[:limit]

    async def popular_posts(self, session: AsyncSession, limit: int) -> list[dict[str, Any]]:
        """The ``limit`` posts with the most comments, through the cache."""
        size = cached_size(limit, DEFAULT_POPULAR_LIMIT)

        async def load() -> list[dict[str, Any]]:
            return _summaries(await self.cache.query.execute(session, queries.popular_posts(size)))

        found: list[dict[str, Any]] = await self._get_or_set(f"popular_posts:{size}", load)
        return found[:limit]

    async def _get_or_set(
        self, key: str, load: Callable[[], Awaitable[Any]], *, cache_none: bool = True
    ) -> Any:
        """``CacheManager.get_or_set``; under the ``cache_miss_rate`` fault the key is first
        evicted from every tier, query results included, so the lookup misses for real."""
        if self.faults is not None:
            faults = self.faults.faults()
            if faults.enabled and self._rng.random() < faults.cache_miss_rate:
                await self.cache.delete(key)
                self.cache.query.clear()
        return await self.cache.get_or_set(key, load, cache_none=cache_none)

    async def user_created(self, profile: dict[str, Any]) -> None:
        """A registration committed: its profile is cached at once (write-through)."""
        await self.cache.set(f"user:{profile['id']}", profile)

    async def post_author(self, session: AsyncSession, post_id: int) -> int | None:
        """The author of ``post_id``, or ``None`` when there is no such post (not cached)."""
        author: int | None = await session.scalar(select(Post.user_id).where(Post.id == post_id))
        return author

    # -- after writes -------------------------------------------------------------------
    async def posts_changed(self, author_id: int) -> None:
        """A post by ``author_id``, or a comment on one of their posts, was committed."""
        user_posts = f"user_posts:{author_id}:{DEFAULT_USER_POSTS_LIMIT}"
        popular = f"popular_posts:{DEFAULT_POPULAR_LIMIT}"
        await self.cache.delete_many(
            [
                user_posts,
                f"user_posts:{author_id}:{MAX_LIMIT}",
                popular,
                f"popular_posts:{MAX_LIMIT}",
            ]
        )
        await self.cache.refresh(
            user_posts,
            lambda: self._fresh_user_posts(author_id, DEFAULT_USER_POSTS_LIMIT),
            delete_first=False,
        )
        await self.cache.refresh(
            popular, lambda: self._fresh_popular(DEFAULT_POPULAR_LIMIT), delete_first=False
        )

    # A refresh reads on a plain connection: a Core SELECT needs no ORM session.
    async def _fresh_user_posts(self, user_id: int, limit: int) -> list[dict[str, Any]]:
        self._task_fault()
        async with self.database.engine.connect() as conn:
            return _summaries(
                await self.cache.query.execute(conn, queries.user_posts(user_id, limit))
            )

    async def _fresh_popular(self, limit: int) -> list[dict[str, Any]]:
        self._task_fault()
        async with self.database.engine.connect() as conn:
            return _summaries(await self.cache.query.execute(conn, queries.popular_posts(limit)))

    def _task_fault(self) -> None:
        """The ``task_failure_rate`` fault: this background attempt fails before it reads."""
        if self.faults is not None:
            faults = self.faults.faults()
            if faults.enabled and self._rng.random() < faults.task_failure_rate:
                raise InjectedFaultError("faults.task_failure_rate")


async def warm_cache(service_cache: ServiceCache) -> int:
    """Preload the popular posts and the most recent authors' profiles and listings (the
    guide's cache warming); how many entries were written."""
    cache = service_cache.cache
    with uncounted():
        return await _warm(service_cache, cache)


async def _warm(service_cache: ServiceCache, cache: CacheManager) -> int:
    async with service_cache.database.sessions() as session:
        popular = await service_cache._fresh_popular(DEFAULT_POPULAR_LIMIT)
        await cache.set(f"popular_posts:{DEFAULT_POPULAR_LIMIT}", popular, ttl=3600)
        recent = (await session.scalars(queries.recent_post_authors(WARM_SCAN))).all()
        authors = list(dict.fromkeys(recent))[:WARM_AUTHORS]
        written = 1
        for user_id in authors:
            user = await session.get(User, user_id)
            if user is None:
                continue
            await cache.set(f"user:{user_id}", UserOut.model_validate(user).model_dump(mode="json"))
            listing = await service_cache._fresh_user_posts(user_id, DEFAULT_USER_POSTS_LIMIT)
            await cache.set(f"user_posts:{user_id}:{DEFAULT_USER_POSTS_LIMIT}", listing)
            written += 2
    return written
