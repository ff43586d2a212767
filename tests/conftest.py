"""Fixtures shared by several test folders: real tool processes (see TOOLS.md)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

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
