"""Settings for the performance toolkit's tests, with or without the Redis of ``redis_server``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from plexichat.config import Settings, load_settings
from tests.support.redis_server import RedisServer


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
