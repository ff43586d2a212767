"""``@cache.cached(ttl, cache_type)``: a function's results cached by its arguments.

Async functions use the tiers of ``cache_type`` through the cache's ``get_or_set``; sync
functions can only use L1 (a sync call cannot wait for Redis), through its ``get_or_set_sync``:
the two methods of :class:`ResultCache`, which ``CacheManager`` has. ``key(*args, **kwargs)``
names the entry; by default ``<module>.<qualname>:<arguments as JSON>``, with arguments longer
than ``MAX_KEY_ARGS`` characters replaced by their SHA-256. Results must be serialisable (see
:mod:`.serialization`).
"""

from __future__ import annotations

import functools
import hashlib
import inspect
from collections.abc import Awaitable, Callable
from typing import Any, ParamSpec, Protocol, TypeVar, cast

from plexichat.core.performance.cache.kinds import CacheType
from plexichat.core.performance.cache.serialization import dumps

P = ParamSpec("P")
R = TypeVar("R")
MAX_KEY_ARGS = 200
"""Longer argument parts of ``@cached`` keys are replaced by their SHA-256."""


class ResultCache(Protocol):
    """What ``cached`` calls on its cache; ``CacheManager`` is one."""

    async def get_or_set(
        self,
        key: str,
        loader: Callable[[], Awaitable[Any]],
        ttl: float | None,
        cache_type: CacheType,
    ) -> Any:
        """The cached value of ``key``; on a miss, ``await loader()``, store and return it."""

    def get_or_set_sync(self, key: str, loader: Callable[[], R], ttl: float | None) -> R:
        """``get_or_set`` for a sync ``loader``, in L1 only."""


def cached(
    cache: ResultCache,
    ttl: float | None,
    cache_type: CacheType,
    key: Callable[..., str] | None,
) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """The decorator ``cache.cached(ttl, cache_type, key=key)`` returns."""

    def decorate(func: Callable[P, R]) -> Callable[P, R]:
        prefix = f"{func.__module__}.{func.__qualname__}:"

        def make_key(*args: Any, **kwargs: Any) -> str:
            if key is not None:
                return key(*args, **kwargs)
            part = dumps([args, kwargs] if kwargs else list(args)).decode()
            if len(part) > MAX_KEY_ARGS:
                part = hashlib.sha256(part.encode()).hexdigest()
            return prefix + part

        if inspect.iscoroutinefunction(func):
            async_func = cast(Callable[..., Awaitable[Any]], func)

            @functools.wraps(func)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                return await cache.get_or_set(
                    make_key(*args, **kwargs),
                    lambda: async_func(*args, **kwargs),
                    ttl,
                    cache_type,
                )

            async_wrapper.cache_key = make_key  # type: ignore[attr-defined]
            return cast(Callable[P, R], async_wrapper)

        @functools.wraps(func)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            return cache.get_or_set_sync(
                make_key(*args, **kwargs), lambda: func(*args, **kwargs), ttl
            )

        wrapper.cache_key = make_key  # type: ignore[attr-defined]
        return wrapper

    return decorate
