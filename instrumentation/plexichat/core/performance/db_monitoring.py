"""The toolkit's database hooks: slow queries with their plan, the connection gauge.

:class:`SlowQueryLog` observes the engine's one statement timer
(:class:`~plexichat.observability.db_client.StatementTimer`, which also feeds
``db.client.operation.duration``): a statement slower than
``database.query_optimization.slow_query_threshold`` (ms) is written to the performance log
(``plexichat.performance``) as one WARNING line with the word ``slow_query``, its duration
and statement, and -- with ``explain_slow_queries`` -- the database's plan for it
(``EXPLAIN QUERY PLAN`` on SQLite, ``EXPLAIN`` on PostgreSQL, which plans without running).
A failed statement is not logged here (its error is the caller's).

:class:`ConnectionGauge` publishes the pool's checked-out connections as the guide's
``database_connections`` gauge through the performance logger, on every checkout and checkin,
until ``detach()``.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import Connection

from plexichat.core.performance.engine_events import EngineListeners
from plexichat.observability.db_client import StatementTimer

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

    from plexichat.config import Settings
    from plexichat.core.logging_unified import PerformanceLogger

log = logging.getLogger("plexichat.performance")
_NOT_EXPLAINED = ("EXPLAIN", "PRAGMA", "BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")


class SlowQueryLog:
    """Writes the statements that take ``threshold_ms`` or longer to the performance log, with their
    plan when ``explain`` is on (see the module docstring).

    It observes engines through their one
    :class:`~plexichat.observability.db_client.StatementTimer`. With ``explain``, each slow
    statement costs one more round trip on its connection (the ``EXPLAIN``); batches
    (``executemany``) are not explained. ``logged`` counts the lines written.
    """

    def __init__(self, threshold_ms: float, explain: bool) -> None:
        self.threshold_s = threshold_ms / 1000
        self.explain = explain
        self.logged = 0
        self._timers: list[StatementTimer] = []

    @classmethod
    def from_settings(cls, settings: Settings) -> SlowQueryLog:
        """The log ``database.query_optimization`` configures (``slow_query_threshold`` in ms,
        ``explain_slow_queries``)."""
        q = settings.performance.database.query_optimization
        return cls(q.slow_query_threshold, q.explain_slow_queries)

    def attach(self, engine: AsyncEngine) -> None:
        """Log the slow statements ``engine`` sends (idempotent)."""
        timer = StatementTimer.of(engine)
        timer.add(self)
        if timer not in self._timers:
            self._timers.append(timer)

    def detach(self) -> None:
        """Stop observing every engine attached so far."""
        for timer in self._timers:
            timer.remove(self)
        self._timers.clear()

    def started(self, statement: str) -> None:
        """The timer's start hook: nothing to prepare here."""
        return None

    def finished(
        self,
        conn: Connection,
        statement: str,
        parameters: Any,
        executemany: bool,
        elapsed: float,
        error_type: str | None,
        state: Any,
    ) -> None:
        """The timer's end hook: log the statement when it succeeded and took at least the threshold
        (``elapsed`` is in seconds)."""
        if elapsed < self.threshold_s or error_type is not None:
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


class ConnectionGauge:
    """The guide's ``database_connections`` gauge for one engine's pool."""

    def __init__(self, engine: AsyncEngine, perf: PerformanceLogger) -> None:
        self._pool: Any = engine.sync_engine.pool
        self._perf = perf
        self._listeners = EngineListeners(checkout=self._publish, checkin=self._publish)
        self._listeners.attach(engine)

    def _publish(self, *_: Any) -> None:
        self._perf.record_gauge("database_connections", self._pool.checkedout())

    def detach(self) -> None:
        """Stop publishing (the engine's listeners are removed)."""
        self._listeners.detach()
