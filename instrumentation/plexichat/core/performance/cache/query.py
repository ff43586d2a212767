"""L3: the query cache for the service's database layer (SQLAlchemy).

``await query_cache.execute(session, statement)`` returns the statement's rows, from the cache
when it holds them. Keys are the compiled SQL and its parameters. What is cached, per the
guide's ``query_cache`` section:

* ``cache_select_only: true`` -- only ``SELECT`` constructs; ``false`` also caches textual
  ``SELECT`` statements (``text("SELECT ...")``), their tables read from the SQL;
* never a statement that reads one of ``exclude_tables``;
* at most ``max_entries`` results (least recently used evicted), each for ``ttl`` seconds.

Invalidation: :meth:`QueryCache.attach` listens to an engine; every ``INSERT``, ``UPDATE``,
``DELETE`` or ``REPLACE`` drops the cached results that read its table, when the statement
runs, when its transaction commits, and once more when its connection returns to the pool
(the commit event fires before the database has committed, so a reader that raced the writer
could otherwise keep a result from before the commit). A result computed while one of its
tables was written is not stored.
"""

from __future__ import annotations

import re
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import Row, Select, TextClause
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.util import find_tables

from plexichat.core.performance.cache.stats import CURRENT_LOOKUP, CacheMetrics
from plexichat.core.performance.engine_events import EngineListeners

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

    from plexichat.config.performance import QueryCacheConfig

_WRITE = re.compile(
    r"^\s*(?:INSERT(?:\s+OR\s+\w+)?\s+INTO|REPLACE\s+INTO|UPDATE(?:\s+OR\s+\w+)?|DELETE\s+FROM)"
    r"\s+[\"`\[]?(\w+)",
    re.IGNORECASE,
)
_READ_TABLES = re.compile(r"\b(?:FROM|JOIN)\s+[\"`\[]?(\w+)", re.IGNORECASE)
_WRITTEN_KEY = "plexichat.query_cache.written"
_UNKNOWN: Any = object()
_MAX_SHAPES = 1000
"""Statement shapes whose tables are remembered (a service has a handful)."""


def written_table(statement: str) -> str | None:
    """The table a write statement changes, or ``None`` for anything else."""
    match = _WRITE.match(statement)
    return match.group(1).lower() if match else None


class _Entry:
    __slots__ = ("expires", "rows", "tables")

    def __init__(self, rows: list[Row[Any]], tables: frozenset[str], expires: float) -> None:
        self.rows = rows
        self.tables = tables
        self.expires = expires


class QueryCache:
    """L3: the rows of the service's ``SELECT`` statements, dropped when a write touches one of
    their tables (see the module docstring). ``len()`` is the number of cached results.

    Not thread-safe: the service uses it from one event loop.

    Args:
        config: ``caching.query_cache``; with ``enabled`` false :meth:`execute` runs every
            statement.
        metrics: The owning cache's metrics: hits and misses count as ``cache.tier="query"``
            requests, and as lookups unless a cache lookup is already under way.
        clock: Monotonic seconds for the entries' ``ttl``.
    """

    def __init__(
        self,
        config: QueryCacheConfig,
        metrics: CacheMetrics,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config = config
        self.enabled = config.enabled
        self.exclude = frozenset(t.lower() for t in config.exclude_tables)
        self._metrics = metrics
        self._clock = clock
        self._entries: OrderedDict[tuple[Any, ...], _Entry] = OrderedDict()
        self._shapes: dict[Any, frozenset[str] | None] = {}
        self._generation: dict[str, int] = {}
        self._listeners = EngineListeners(
            after_cursor_execute=self._after_execute,
            commit=self._on_commit,
            checkin=self._on_checkin,
        )

    def __len__(self) -> int:
        return len(self._entries)

    # -- reading -----------------------------------------------------------------------
    def tables(self, statement: Any) -> frozenset[str] | None:
        """The tables ``statement`` reads, or ``None`` when it must not be cached."""
        if isinstance(statement, Select):
            names = frozenset(t.name.lower() for t in find_tables(statement, include_joins=True))
        elif isinstance(statement, TextClause) and not self.config.cache_select_only:
            sql = statement.text.lstrip()
            if not sql[:6].upper().startswith(("SELECT", "WITH")):
                return None
            names = frozenset(t.lower() for t in _READ_TABLES.findall(sql))
        else:
            return None
        if not names or names & self.exclude:
            return None
        return names

    async def execute(
        self,
        session: AsyncSession | AsyncConnection,
        statement: Any,
        params: dict[str, Any] | None = None,
    ) -> Sequence[Row[Any]]:
        """The rows of ``statement``, from the cache when possible."""
        if not self.enabled:
            return (await session.execute(statement, params)).all()
        shape, key = self._key(session, statement, params)
        tables = self._shapes.get(shape, _UNKNOWN)
        if tables is _UNKNOWN:
            tables = self.tables(statement)
            if len(self._shapes) >= _MAX_SHAPES:
                self._shapes.clear()
            self._shapes[shape] = tables
        if tables is None:
            return (await session.execute(statement, params)).all()
        entry = self._entries.get(key)
        now = self._clock()
        scope = CURRENT_LOOKUP.get()
        if entry is not None and entry.expires > now:
            self._entries.move_to_end(key)
            self._metrics.requested("query", "hit")
            if scope is None:
                self._metrics.looked_up(True)
            else:
                scope.served = True
            return entry.rows
        if entry is not None:
            del self._entries[key]
        self._metrics.requested("query", "miss")
        if scope is None:
            self._metrics.looked_up(False)
        before = [self._generation.get(t, 0) for t in sorted(tables)]
        rows = list((await session.execute(statement, params)).all())
        if before == [self._generation.get(t, 0) for t in sorted(tables)]:
            self._store(key, _Entry(rows, tables, self._clock() + self.config.ttl))
        return rows

    @staticmethod
    def _key(
        session: AsyncSession | AsyncConnection, statement: Any, params: dict[str, Any] | None
    ) -> tuple[Any, tuple[Any, ...]]:
        """(the statement's shape, the entry's key). From SQLAlchemy's cache key -- the same
        one its compiled-statement cache uses -- and the bound values: ~35 µs, where compiling
        the statement to SQL text for every lookup cost ~450 µs here."""
        cache_key = statement._generate_cache_key()
        extra = tuple(sorted((k, repr(v)) for k, v in (params or {}).items()))
        if cache_key is None:  # a construct SQLAlchemy does not cache: key by its SQL
            bind = session.get_bind() if isinstance(session, AsyncSession) else session
            compiled = statement.compile(dialect=bind.dialect)
            merged = {**compiled.params, **(params or {})}
            return str(compiled), (
                str(compiled),
                tuple(sorted((k, repr(v)) for k, v in merged.items())),
            )
        values = tuple(repr(b.effective_value) for b in cache_key.bindparams)
        return cache_key.key, (cache_key.key, values, extra)

    def _store(self, key: tuple[Any, ...], entry: _Entry) -> None:
        self._entries[key] = entry
        self._entries.move_to_end(key)
        evicted = 0
        while len(self._entries) > self.config.max_entries:
            self._entries.popitem(last=False)
            evicted += 1
        if evicted:
            self._metrics.evicted("query", evicted)

    # -- invalidation --------------------------------------------------------------------
    def invalidate_tables(self, tables: set[str] | frozenset[str]) -> int:
        """Drop every cached result that read one of ``tables``."""
        if not tables:
            return 0
        for table in tables:
            self._generation[table] = self._generation.get(table, 0) + 1
        doomed = [key for key, entry in self._entries.items() if entry.tables & tables]
        for key in doomed:
            del self._entries[key]
        return len(doomed)

    def clear(self) -> int:
        """Drop every cached result; how many there were."""
        count = len(self._entries)
        self._entries.clear()
        for table in list(self._generation):
            self._generation[table] += 1
        return count

    def attach(self, engine: AsyncEngine) -> None:
        """Invalidate on the writes ``engine`` executes (idempotent)."""
        self._listeners.attach(engine)

    def detach(self) -> None:
        """Stop listening to the engines :meth:`attach` attached: their writes no longer
        invalidate."""
        self._listeners.detach()

    def _after_execute(
        self,
        conn: Connection,
        cursor: Any,
        statement: str,
        parameters: Any,
        context: Any,
        executemany: bool,
    ) -> None:
        table = written_table(statement)
        if table is not None:
            self.invalidate_tables({table})
            conn.info.setdefault(_WRITTEN_KEY, set()).add(table)

    def _on_commit(self, conn: Connection) -> None:
        written = conn.info.get(_WRITTEN_KEY)
        if written:
            self.invalidate_tables(written)

    def _on_checkin(self, dbapi_connection: Any, record: Any) -> None:
        # The commit event fires before the COMMIT reaches the database: a reader on another
        # connection in between still sees the old rows (PostgreSQL) and could store them.
        # Back in the pool, the transaction is over: invalidate once more.
        written = record.info.pop(_WRITTEN_KEY, None)
        if written:
            self.invalidate_tables(written)
