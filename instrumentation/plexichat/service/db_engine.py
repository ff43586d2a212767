"""The chat service's database: one async engine, its session factory, and start-up helpers.

SQLAlchemy 2 asyncio. The URL is ``settings.service.effective_database_url``: by default a SQLite
file under the data dir (``sqlite+aiosqlite:///<data_dir>/plexichat.db``; the directory is created),
or PostgreSQL by URL (``postgresql+asyncpg://...``, which needs the ``postgres`` extra).

Tables are created at start-up with ``metadata.create_all`` (idempotent). There is no migrations
tool yet; the one schema change so far (``posts.comment_count`` and the listing indexes) is
applied to an older database at start-up by :func:`upgrade_schema`.

How the guide's ``performance.database.connection_pool`` maps onto SQLAlchemy's queue pool:

============  ==========================  =================================================
guide key     PostgreSQL                  SQLite file
============  ==========================  =================================================
max_size      ``pool_size``               ``pool_size``
max_overflow  ``max_overflow``            0 -- SQLite has one writer; extra connections
                                          would only queue on its lock
pool_timeout  ``pool_timeout`` (seconds)  ``pool_timeout`` (seconds)
min_size      connections opened at       connections opened at start-up (warm-up)
              start-up (warm-up); the     -- SQLAlchemy keeps no floor either way
              pool keeps no floor
============  ==========================  =================================================

``latency_optimizer.query_optimization.prepared_statement_cache_size`` is each connection's
statement cache: asyncpg's ``prepared_statement_cache_size``, sqlite3's ``cached_statements``.
Its ``batch_size`` bounds the writer's transactions (``writer.py``); its
``connection_pool_size`` stays inert -- the pool is sized by ``database.connection_pool``, the
guide's fuller block, and two keys sizing one pool would contradict each other.

PostgreSQL connections are pre-pinged on checkout. Every SQLite connection runs in WAL mode
(readers do not block the writer), with a busy timeout of ``SQLITE_BUSY_TIMEOUT_MS`` (a writer
waits for the lock instead of failing at once) and foreign keys enforced.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, event, inspect, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.ext.asyncio import create_async_engine as _create_async_engine

from plexichat.config import Settings
from plexichat.service.models import Base

SQLITE_BUSY_TIMEOUT_MS = 5000
"""How long a SQLite writer waits for the database lock before failing, in milliseconds."""

READY_TIMEOUT_S = 2.0
"""How long the readiness probe's ``SELECT 1`` may take before the database counts as down."""


class DatabaseURLError(ValueError):
    """The database URL cannot be used (unparsable, or its driver is not installed)."""


@dataclass(frozen=True)
class PoolSettings:
    """The guide's ``database.connection_pool`` block."""

    min_size: int
    max_size: int
    max_overflow: int
    pool_timeout: float
    prepared_statement_cache_size: int = 100
    """Per connection: asyncpg's ``prepared_statement_cache_size``, sqlite3's
    ``cached_statements`` (``latency_optimizer.query_optimization``; 0 turns it off)."""

    @classmethod
    def from_settings(cls, settings: Settings) -> PoolSettings:
        """The pool ``database.connection_pool`` and ``latency_optimizer.query_optimization``
        configure."""
        pool = settings.performance.database.connection_pool
        queries = settings.performance.latency_optimizer.query_optimization
        return cls(
            min_size=int(pool.min_size),
            max_size=int(pool.max_size),
            max_overflow=int(pool.max_overflow),
            pool_timeout=float(pool.pool_timeout),
            prepared_statement_cache_size=int(queries.prepared_statement_cache_size),
        )


_DRIVER_MODULES = {"aiosqlite": "aiosqlite", "asyncpg": "asyncpg"}
_DRIVER_EXTRAS = {"asyncpg": "postgres"}


_PASSWORD = re.compile(r"(?P<user>://[^:/@]*:).*@", re.DOTALL)
"""``scheme://user:password@``: the password runs to the last ``@`` (one left unencoded is
masked whole; masking too much is harmless)."""


def masked(url: str) -> str:
    """``url`` with its password shown as ``***``, fit for an error message or a log line.
    Found textually, not by SQLAlchemy's parser: it also serves a URL that parser refuses, or
    reads differently (a raw ``@`` or ``/`` in the password)."""
    return _PASSWORD.sub(r"\g<user>***@", url)


def parse_url(url: str) -> URL:
    """Parse ``url`` and check that its async driver is importable. Errors show the URL with
    its password masked."""
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):  # ValueError: a port that is not a number
        # Not chained: SQLAlchemy's own message may quote the whole URL.
        raise DatabaseURLError(
            f"service.database_url {masked(url)!r} is not a database URL"
        ) from None
    driver = parsed.get_driver_name()
    module = _DRIVER_MODULES.get(driver)
    if module is None:
        raise DatabaseURLError(
            f"service.database_url uses driver {driver!r}; use sqlite+aiosqlite:// "
            "or postgresql+asyncpg://"
        )
    if importlib.util.find_spec(module) is None:
        extra = _DRIVER_EXTRAS.get(driver)
        hint = f" (pip install 'plexichat-observability[{extra}]')" if extra else ""
        raise DatabaseURLError(f"service.database_url needs the {module!r} package{hint}")
    return parsed


def _is_sqlite(url: URL) -> bool:
    return url.get_backend_name() == "sqlite"


def engine_options(url: URL, pool: PoolSettings) -> dict[str, Any]:
    """Keyword arguments for ``create_async_engine``; the mapping is in the module docstring."""
    if _is_sqlite(url):
        return {
            "pool_size": pool.max_size,
            "max_overflow": 0,
            "pool_timeout": pool.pool_timeout,
            "connect_args": {"cached_statements": pool.prepared_statement_cache_size},
        }
    return {
        "pool_size": pool.max_size,
        "max_overflow": pool.max_overflow,
        "pool_timeout": pool.pool_timeout,
        "pool_pre_ping": True,
        "connect_args": {"prepared_statement_cache_size": pool.prepared_statement_cache_size},
    }


def _sqlite_on_connect(dbapi_connection: Any, connection_record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
    finally:
        cursor.close()


def create_engine(url: str, pool: PoolSettings) -> AsyncEngine:
    """An engine for ``url`` with the pool settings mapped as documented above.

    For a SQLite file the parent directory is created. In-memory SQLite is not supported: every
    pooled connection would see its own empty database.
    """
    parsed = parse_url(url)
    if _is_sqlite(parsed):
        if parsed.database in (None, "", ":memory:"):
            raise DatabaseURLError("service.database_url: in-memory SQLite is not supported")
        Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = _create_async_engine(parsed, **engine_options(parsed, pool))
    if _is_sqlite(parsed):
        event.listen(engine.sync_engine, "connect", _sqlite_on_connect)
    return engine


def upgrade_schema(conn: Connection) -> None:
    """Bring a database created by an earlier version up to the current tables: add and fill
    ``posts.comment_count``, create missing indexes of ``posts``."""
    inspector = inspect(conn)
    if "comment_count" not in {c["name"] for c in inspector.get_columns("posts")}:
        conn.execute(text("ALTER TABLE posts ADD COLUMN comment_count INTEGER NOT NULL DEFAULT 0"))
        conn.execute(
            text(
                "UPDATE posts SET comment_count ="
                " (SELECT count(*) FROM comments WHERE comments.post_id = posts.id)"
            )
        )
    existing = {index["name"] for index in inspector.get_indexes("posts")}
    for index in Base.metadata.tables["posts"].indexes:
        if index.name not in existing:
            index.create(conn)


class Database:
    """The engine and its session factory, with the start-up and probe helpers."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.sessions: async_sessionmaker[AsyncSession] = async_sessionmaker(
            engine, expire_on_commit=False
        )

    async def create_tables(self) -> None:
        """Create the missing tables and indexes and upgrade an older schema (idempotent)."""
        async with self.engine.begin() as conn:
            await conn.run_sync(Base.metadata.create_all)
            await conn.run_sync(upgrade_schema)

    async def warm_up(self, connections: int) -> None:
        """Open ``connections`` pooled connections (at most the pool size), then return them."""
        count = max(0, min(connections, self.engine.pool.size()))  # type: ignore[attr-defined]
        async with contextlib.AsyncExitStack() as stack:
            for _ in range(count):
                await stack.enter_async_context(self.engine.connect())

    async def ping(self) -> bool:
        """Whether ``SELECT 1`` answers within ``READY_TIMEOUT_S``."""
        try:
            async with asyncio.timeout(READY_TIMEOUT_S), self.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except Exception:
            return False
        return True

    async def dispose(self) -> None:
        """Close every pooled connection."""
        await self.engine.dispose()
