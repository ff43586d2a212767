"""The toolkit's database hooks: slow queries with their plan, the connection gauge.

:class:`SlowQueryLog` times every statement an engine sends; one slower than
``database.query_optimization.slow_query_threshold`` (ms) is written to the performance log
(``plexichat.performance``) as one WARNING line with the word ``slow_query``, its duration
and statement, and -- with ``explain_slow_queries`` -- the database's plan for it
(``EXPLAIN QUERY PLAN`` on SQLite, ``EXPLAIN`` on PostgreSQL, which plans without running).

:func:`track_connections` publishes the pool's checked-out connections as the guide's
``database_connections`` gauge through the performance logger, on every checkout and checkin.
"""

from __future__ import annotations

import logging
from time import perf_counter
from typing import TYPE_CHECKING, Any

from sqlalchemy import event
from sqlalchemy.engine import Connection

from .engine_events import EngineListeners

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

    from plexichat.config import Settings
    from plexichat.core.logging_unified import PerformanceLogger

log = logging.getLogger("plexichat.performance")
_STARTED = "plexichat.slow_query.started"
_NOT_EXPLAINED = ("EXPLAIN", "PRAGMA", "BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")


class SlowQueryLog:
    def __init__(self, threshold_ms: float, explain: bool) -> None:
        self.threshold_s = threshold_ms / 1000
        self.explain = explain
        self.logged = 0
        self._listeners = EngineListeners(
            before_cursor_execute=self._before, after_cursor_execute=self._after
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> SlowQueryLog:
        q = settings.performance.database.query_optimization
        return cls(q.slow_query_threshold, q.explain_slow_queries)

    def attach(self, engine: AsyncEngine) -> None:
        """Time the statements ``engine`` sends (idempotent)."""
        self._listeners.attach(engine)

    def detach(self) -> None:
        self._listeners.detach()

    def _before(self, conn: Connection, cursor: Any, statement: str, *args: Any) -> None:
        conn.info.setdefault(_STARTED, []).append(perf_counter())

    def _after(
        self,
        conn: Connection,
        cursor: Any,
        statement: str,
        parameters: Any,
        context: Any,
        executemany: bool,
    ) -> None:
        started = conn.info.get(_STARTED)
        if not started:
            return
        elapsed = perf_counter() - started.pop()
        if elapsed < self.threshold_s:
            return
        plan = None
        if self.explain and not executemany:
            plan = self._plan(conn, statement, parameters)
        self.logged += 1
        log.warning(
            "slow_query duration_ms=%.1f statement=%s%s",
            elapsed * 1000,
            " ".join(statement.split()),
            f" plan={plan}" if plan else "",
        )

    def _plan(self, conn: Connection, statement: str, parameters: Any) -> str | None:
        head = statement.lstrip()[:10].upper()
        if head.startswith(_NOT_EXPLAINED):
            return None
        prefix = "EXPLAIN QUERY PLAN " if conn.dialect.name == "sqlite" else "EXPLAIN "
        try:
            cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
            try:
                cursor.execute(prefix + statement, parameters)
                rows = cursor.fetchall()
            finally:
                cursor.close()
        except Exception as exc:  # the plan is a courtesy; never fail the query for it
            return f"(EXPLAIN failed: {type(exc).__name__})"
        if conn.dialect.name == "sqlite":
            return " | ".join(str(row[-1]) for row in rows)
        return " | ".join(str(row[0]).strip() for row in rows)


def track_connections(engine: AsyncEngine, perf: PerformanceLogger) -> None:
    """Record ``database_connections`` (connections checked out of the pool) as it changes."""
    pool: Any = engine.sync_engine.pool

    def publish(*_: Any) -> None:
        perf.record_gauge("database_connections", pool.checkedout())

    event.listen(engine.sync_engine, "checkout", publish)
    event.listen(engine.sync_engine, "checkin", publish)
