"""A real Redis for the performance toolkit's tests (see TOOLS.md), and settings using it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from plexichat.config import Settings, load_settings
from tests.support.redis_server import RedisServer
from tests.support.tools import require_tool


@pytest.fixture(scope="session")
def redis_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = RedisServer(require_tool("redis-server"), tmp_path_factory.mktemp("redis"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def redis_server(redis_session: RedisServer) -> RedisServer:
    """The session's Redis, running and empty."""
    if not redis_session.running:
        redis_session.start()
    redis_session.flushall()
    return redis_session


def cache_settings(
    redis: RedisServer | None = None, *, data_dir: Path | None = None, **performance: Any
) -> Settings:
    caching: dict[str, Any] = {"redis_cache": {"enabled": False}}
    if redis is not None:
        caching["redis_cache"] = {"enabled": True, "host": "127.0.0.1", "port": redis.port}
    tree: dict[str, Any] = {"performance": {"caching": caching}}
    for key, value in performance.items():
        tree["performance"].setdefault(key, {})
        if isinstance(value, dict) and isinstance(tree["performance"][key], dict):
            _merge(tree["performance"][key], value)
        else:
            tree["performance"][key] = value
    if data_dir is not None:
        tree["service"] = {"data_dir": str(data_dir)}
    return load_settings(environ={}, overrides=tree)


def _merge(into: dict[str, Any], new: dict[str, Any]) -> None:
    for key, value in new.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        else:
            into[key] = value


@pytest.fixture
def make_cache_settings() -> Callable[..., Settings]:
    return cache_settings
