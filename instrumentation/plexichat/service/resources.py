"""The process resources the guide's settings size: open files, and the threads for blocking calls.

``resource_limits.max_open_files`` becomes the soft ``RLIMIT_NOFILE`` when the server starts
(workers inherit it); above the hard limit it is an error naming the key, never silently
capped. ``async_settings.thread_pool_size`` sizes both pools a request's blocking work can land
in: the event loop's default executor (``asyncio.to_thread``, ``run_in_executor(None, ...)``)
and AnyIO's thread limiter (Starlette's ``run_in_threadpool``: sync routes and dependencies).
"""

from __future__ import annotations

import asyncio
import resource
from concurrent.futures import ThreadPoolExecutor

import anyio.to_thread

from plexichat.config import ConfigError, Settings

OPEN_FILES_KEY = "performance.resource_limits.max_open_files"


def apply_open_files_limit(settings: Settings) -> int:
    """Set the soft RLIMIT_NOFILE to ``max_open_files``; the limit now in force."""
    wanted = int(settings.performance.resource_limits.max_open_files)
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and wanted > hard:
        raise ConfigError(
            OPEN_FILES_KEY,
            f"{wanted} is above this process's hard limit of {hard} open files "
            "(raise the hard limit, e.g. ulimit -Hn or the container's nofile, or lower it)",
        )
    resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    return wanted


def size_thread_pools(settings: Settings) -> ThreadPoolExecutor:
    """Give the running loop a default executor of ``thread_pool_size`` threads and set AnyIO's
    limiter to the same; the executor, for the caller to shut down."""
    size = int(settings.performance.async_settings.thread_pool_size)
    executor = ThreadPoolExecutor(max_workers=size, thread_name_prefix="plexichat-blocking")
    asyncio.get_running_loop().set_default_executor(executor)
    anyio.to_thread.current_default_thread_limiter().total_tokens = size
    return executor
