"""Fixtures shared by several test folders: real tool processes (see TOOLS.md)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.postgres_server import PostgresServer, require_postgres
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


@pytest.fixture(scope="session")
def postgres_session() -> Iterator[PostgresServer]:
    """A real PostgreSQL server for the session (fsync off: nothing must survive a crash)."""
    server = PostgresServer(require_postgres(), durable=False)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def postgres_url(postgres_session: PostgresServer) -> str:
    """The URL of a new, empty database on the session's PostgreSQL."""
    return postgres_session.create_database()
