"""``@performance_profile``: profile every call of a function, when profiling is switched on.

Profiling is on when ``PLEXICHAT_PERFORMANCE_PROFILING`` is ``true`` (or ``1``/``yes``) at the
time the function is decorated; otherwise the function is returned unchanged (no cost). Each
call then runs under a :class:`~plexichat.core.performance.profiler.Profiler` and writes one
``profile`` line to the performance log (``plexichat.performance``) with the time, calls and
memory delta, the top functions at DEBUG, and the time as operation ``profile_<name>``.
"""

from __future__ import annotations

import functools
import inspect
import logging
import os
import re
from collections.abc import Awaitable, Callable
from typing import Any, ParamSpec, TypeVar, cast

from plexichat.core.logging_unified import get_performance_logger
from plexichat.core.performance.profiler import Profiler, ProfileStats

P = ParamSpec("P")
R = TypeVar("R")
ENV = "PLEXICHAT_PERFORMANCE_PROFILING"
log = logging.getLogger("plexichat.performance")


def _profiling_enabled(environ: dict[str, str] | None = None) -> bool:
    env = os.environ if environ is None else environ
    return env.get(ENV, "").strip().lower() in ("true", "1", "yes", "on")


def _report(name: str, stats: ProfileStats) -> None:
    log.info(
        "profile function=%s total_time_ms=%.3f function_calls=%d memory_delta_mb=%.3f",
        name,
        stats.total_time,
        stats.function_calls,
        stats.memory_delta,
    )
    log.debug("profile function=%s top functions:\n%s", name, stats.top)
    get_performance_logger().record_timer(f"profile_{name}", stats.total_time / 1000)


def performance_profile(func: Callable[P, R]) -> Callable[P, R]:
    """Profile each call of ``func`` (sync or async) when profiling is switched on."""
    if not _profiling_enabled():
        return func
    name = re.sub(r"[^a-z0-9_]+", "_", func.__qualname__.lower()).strip("_")
    if inspect.iscoroutinefunction(func):
        async_func = cast(Callable[..., Awaitable[Any]], func)

        @functools.wraps(func)
        async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
            profiler = Profiler()
            profiler.start()
            try:
                return await async_func(*args, **kwargs)
            finally:
                _report(name, profiler.stop())

        return cast(Callable[P, R], async_wrapper)

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        profiler = Profiler()
        profiler.start()
        try:
            return func(*args, **kwargs)
        finally:
            _report(name, profiler.stop())

    return wrapper
