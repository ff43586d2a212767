"""Fixtures shared by several test folders -- real components (Redis, PostgreSQL, OTLP
receivers; see TOOLS.md) -- and the ``integration`` marker, applied at collection.

A test is an integration test when it uses a fixture that starts a real component
(``REAL_COMPONENT_FIXTURES``) or is marked with ``requires_tool(...)``; ``-m "not
integration"`` then leaves out every one of them (the fast loop, ``scripts/check``'s tests).
``require_tool`` refuses to run in a test that is not so marked, so the marker cannot be
forgotten.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from plexichat.observability import DEFAULT_REGISTRY
from tests.support import tools
from tests.support.otlp_receiver import GrpcReceiver, HttpReceiver
from tests.support.postgres_server import PostgresServer, require_postgres
from tests.support.redis_server import RedisServer
from tests.support.tools import require_tool

REAL_COMPONENT_FIXTURES = frozenset(
    {"redis_session", "postgres_session", "receiver", "grpc_receiver"}
)
"""Fixtures that start a process or a server (their dependants are integration tests too)."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if REAL_COMPONENT_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.integration)


@pytest.fixture(autouse=True)
def _integration_guard(request: pytest.FixtureRequest) -> Iterator[None]:
    """Lets ``require_tool`` check that the running test carries the integration marker."""
    with tools.running(request.node.get_closest_marker("integration") is not None):
        yield


@pytest.fixture(autouse=True)
def _process_series_limit() -> Iterator[None]:
    """An app sets the process registry's series budget for as long as the process runs (see
    ``MetricRegistry.limit_series``); a test's small budget must not outlive its test."""
    limit = DEFAULT_REGISTRY.series_limit
    yield
    DEFAULT_REGISTRY.limit_series(limit)


@pytest.fixture
def receiver() -> Iterator[HttpReceiver]:
    """An OTLP/HTTP receiver on a free loopback port."""
    r = HttpReceiver()
    yield r
    r.close()


@pytest.fixture
def grpc_receiver() -> Iterator[GrpcReceiver]:
    """An OTLP/gRPC receiver on a free loopback port."""
    r = GrpcReceiver()
    yield r
    r.close()


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
