"""What the chat service caches, under which keys, and which writes change what.

============================  ==========================  =====================================
key                           value                       changed by
============================  ==========================  =====================================
``user:{id}``                 the user's profile          registration (written through);
                                                          unknown ids are not cached
``user_posts:{id}:{limit}``   the user's posts listing    a post by the user, a comment on
                                                          one of the user's posts
``popular_posts:{limit}``     the popular posts listing   any post or comment
============================  ==========================  =====================================

Listings are read through the query cache (L3), so a miss in L1/L2 may still be served from
L3. After a write commits, every ``limit`` variant of what it changed is invalidated on every
replica and the default-limit entry is recomputed in the background, so the next read is a
hit on the new data (:meth:`CacheManager.refresh`). At start-up :func:`warm_cache` loads the
popular posts and the profiles and listings of the most recent authors, as the guide's
``warm_cache`` does.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from plexichat.core.performance import CacheManager
from plexichat.core.performance.cache import uncounted
from plexichat.service import queries
from plexichat.service.db_engine import Database
from plexichat.service.models import Post, User
from plexichat.service.schemas import PostSummary, UserOut

MAX_LIMIT = 100
"""Listings take ``limit`` 1..100 (the routes' bound): the keys a write must invalidate."""
DEFAULT_USER_POSTS_LIMIT = 20
"""The routes' default ``limit``: the entries recomputed after a write and warmed at start-up."""
DEFAULT_POPULAR_LIMIT = 10
WARM_AUTHORS = 100


def _summaries(rows: Any) -> list[dict[str, Any]]:
    return [
        PostSummary.model_validate(row, from_attributes=True).model_dump(mode="json")
        for row in rows
    ]


class ServiceCache:
    """The service's reads through the cache tiers, and the invalidation its writes need."""

    def __init__(self, cache: CacheManager, database: Database) -> None:
        self.cache = cache
        self.database = database

    async def user(self, session: AsyncSession, user_id: int) -> dict[str, Any] | None:
        """The profile of ``user_id``, or ``None`` when there is no such user."""

        async def load() -> dict[str, Any] | None:
            user = await session.get(User, user_id)
            return None if user is None else UserOut.model_validate(user).model_dump(mode="json")

        found: dict[str, Any] | None = await self.cache.get_or_set(
            f"user:{user_id}", load, cache_none=False
        )
        return found

    async def user_posts(
        self, session: AsyncSession, user_id: int, limit: int
    ) -> list[dict[str, Any]] | None:
        """The user's posts listing, or ``None`` when there is no such user."""

        async def load() -> list[dict[str, Any]] | None:
            rows = await self.cache.query.execute(session, queries.user_posts(user_id, limit))
            if not rows and await self.user(session, user_id) is None:
                return None
            return _summaries(rows)

        found: list[dict[str, Any]] | None = await self.cache.get_or_set(
            f"user_posts:{user_id}:{limit}", load, cache_none=False
        )
        return found

    async def popular_posts(self, session: AsyncSession, limit: int) -> list[dict[str, Any]]:
        async def load() -> list[dict[str, Any]]:
            return _summaries(await self.cache.query.execute(session, queries.popular_posts(limit)))

        found: list[dict[str, Any]] = await self.cache.get_or_set(f"popular_posts:{limit}", load)
        return found

    async def user_created(self, profile: dict[str, Any]) -> None:
        """A registration committed: its profile is cached at once (write-through)."""
        await self.cache.set(f"user:{profile['id']}", profile)

    async def post_author(self, session: AsyncSession, post_id: int) -> int | None:
        author: int | None = await session.scalar(select(Post.user_id).where(Post.id == post_id))
        return author

    # -- after writes -------------------------------------------------------------------
    async def posts_changed(self, author_id: int) -> None:
        """A post by ``author_id``, or a comment on one of their posts, was committed."""
        keys = [f"user_posts:{author_id}:{n}" for n in range(1, MAX_LIMIT + 1)]
        keys += [f"popular_posts:{n}" for n in range(1, MAX_LIMIT + 1)]
        await self.cache.delete_many(keys)
        await self.cache.refresh(
            f"user_posts:{author_id}:{DEFAULT_USER_POSTS_LIMIT}",
            lambda: self._fresh_user_posts(author_id, DEFAULT_USER_POSTS_LIMIT),
            delete_first=False,
        )
        await self.cache.refresh(
            f"popular_posts:{DEFAULT_POPULAR_LIMIT}",
            lambda: self._fresh_popular(DEFAULT_POPULAR_LIMIT),
            delete_first=False,
        )

    async def _fresh_user_posts(self, user_id: int, limit: int) -> list[dict[str, Any]]:
        async with self.database.sessions() as session:
            return _summaries(
                await self.cache.query.execute(session, queries.user_posts(user_id, limit))
            )

    async def _fresh_popular(self, limit: int) -> list[dict[str, Any]]:
        async with self.database.sessions() as session:
            return _summaries(await self.cache.query.execute(session, queries.popular_posts(limit)))


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
        authors = (
            await session.scalars(
                select(Post.user_id)
                .group_by(Post.user_id)
                .order_by(func.max(Post.created_at).desc())
                .limit(WARM_AUTHORS)
            )
        ).all()
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
