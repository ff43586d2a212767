"""Database client metrics and spans for a SQLAlchemy engine (needs the ``service`` extra), and
the one listener that times every SQL statement.

:class:`StatementTimer` is the only listener on an engine's cursor events: it times each
statement once and hands the duration to its observers -- :class:`EngineInstrumentation` here,
and the toolkit's slow-query log (:mod:`plexichat.core.performance.db_monitoring`). It listens
while it has observers and removes its listeners with the last one.

:class:`EngineInstrumentation` records ``db.client.operation.duration`` (s) with
``db.system.name`` (``sqlite``, ``postgresql``, ...) and ``db.operation.name`` (the SQL
verb: ``SELECT``, ``INSERT``, ...; ``error.type`` when it failed). When a recording span is
current (a sampled request), each statement also gets a CLIENT child span.
"""

from __future__ import annotations

import weakref
from time import perf_counter
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine, ExceptionContext, ExecutionContext
from sqlalchemy.ext.asyncio import AsyncEngine

from plexichat.observability.metrics.instruments import HistogramSeries
from plexichat.observability.tracing.tracer import CLIENT

if TYPE_CHECKING:
    from plexichat.observability.telemetry import Telemetry

_MAX_CACHED_STATEMENTS = 2048
_SYSTEMS = {
    "postgresql": "postgresql",
    "sqlite": "sqlite",
    "mysql": "mysql",
    "mssql": "microsoft.sql_server",
}
_RUNNING = "plexichat.statement"


def operation_name(statement: str) -> str:
    """The SQL verb of ``statement`` (``WITH ... SELECT`` counts as ``WITH``)."""
    head = statement.lstrip().split(None, 1)
    return head[0].upper() if head else "UNKNOWN"


class StatementObserver(Protocol):
    """What wants each statement's duration. ``started`` runs before the statement (e.g. to
    open a span) and returns what ``finished`` gets back as ``state``."""

    def started(self, statement: str) -> Any:
        """Called just before each statement; what it returns comes back to ``finished`` as
        ``state``."""

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
        """Called once after each statement, successful or not (``error_type``: the exception's
        class name), with its duration ``elapsed`` in seconds."""


class StatementTimer:
    """Times every statement of one engine, once, for all its observers."""

    # One per engine, living as long as the engine does.
    _timers: ClassVar[weakref.WeakKeyDictionary[Engine, StatementTimer]] = (
        weakref.WeakKeyDictionary()
    )

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.observers: list[StatementObserver] = []

    @classmethod
    def of(cls, engine: AsyncEngine) -> StatementTimer:
        """The engine's timer (created on first use)."""
        sync = engine.sync_engine
        timer = cls._timers.get(sync)
        if timer is None:
            timer = cls._timers[sync] = cls(sync)
        return timer

    def add(self, observer: StatementObserver) -> None:
        """Give ``observer`` every statement's duration (idempotent)."""
        if observer in self.observers:
            return
        if not self.observers:
            event.listen(self.engine, "before_cursor_execute", self._before)
            event.listen(self.engine, "after_cursor_execute", self._after)
            event.listen(self.engine, "handle_error", self._error)
        self.observers.append(observer)

    def remove(self, observer: StatementObserver) -> None:
        """Stop telling ``observer``; the last one out removes the listeners."""
        if observer not in self.observers:
            return
        self.observers.remove(observer)
        if not self.observers:
            event.remove(self.engine, "before_cursor_execute", self._before)
            event.remove(self.engine, "after_cursor_execute", self._after)
            event.remove(self.engine, "handle_error", self._error)

    def _before(
        self,
        conn: Connection,
        cursor: Any,
        statement: str,
        parameters: Any,
        context: ExecutionContext | None,
        executemany: bool,
    ) -> None:
        started = [(observer, observer.started(statement)) for observer in self.observers]
        conn.info[_RUNNING] = (perf_counter(), started)

    def _finish(
        self,
        conn: Connection,
        statement: str,
        parameters: Any,
        executemany: bool,
        error_type: str | None,
    ) -> None:
        running = conn.info.pop(_RUNNING, None)
        if running is None:
            return
        start, started = running
        elapsed = perf_counter() - start
        for observer, state in started:
            observer.finished(conn, statement, parameters, executemany, elapsed, error_type, state)

    def _after(
        self,
        conn: Connection,
        cursor: Any,
        statement: str,
        parameters: Any,
        context: ExecutionContext | None,
        executemany: bool,
    ) -> None:
        self._finish(conn, statement, parameters, executemany, None)

    def _error(self, exc: ExceptionContext) -> None:
        if exc.connection is not None and exc.statement is not None:
            error = type(exc.original_exception).__qualname__
            self._finish(exc.connection, exc.statement, exc.parameters, False, error)


class EngineInstrumentation:
    """Database client metrics and spans of one engine, fed by its :class:`StatementTimer`."""

    def __init__(self, engine: AsyncEngine, telemetry: Telemetry) -> None:
        sync_engine = engine.sync_engine
        self.system = _SYSTEMS.get(sync_engine.dialect.name, sync_engine.dialect.name)
        self.tracer = telemetry.tracer
        self.family = telemetry.registry.instrument("db.client.operation.duration")
        self.exemplars = telemetry.exemplars
        self._ops: dict[str, str] = {}
        self._bound: dict[tuple[str, str | None], HistogramSeries] = {}
        self.timer = StatementTimer.of(engine)
        self.timer.add(self)

    def remove(self) -> None:
        """Stop recording this engine's statements (``Telemetry.shutdown`` calls it)."""
        self.timer.remove(self)

    def _operation(self, statement: str) -> str:
        op = self._ops.get(statement)
        if op is None:
            op = operation_name(statement)
            if len(self._ops) < _MAX_CACHED_STATEMENTS:
                self._ops[statement] = op
        return op

    def started(self, statement: str) -> Any:
        """Open the statement's CLIENT span when a sampled request is current (else nothing)."""
        if self.tracer is None:
            return None
        op = self._operation(statement)
        return self.tracer.child_span(
            f"{op} {self.system}",
            CLIENT,
            [
                ("db.system.name", self.system),
                ("db.operation.name", op),
                ("db.query.text", statement),
            ],
        )

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
        """Record the statement's duration by system, SQL verb and ``error.type``, and end its
        span (with an exemplar when exemplars are on)."""
        span = state
        op = self._operation(statement)
        key = (op, error_type)
        series = self._bound.get(key)
        if series is None:
            series = self.family.histogram((self.system, op, error_type))
            if len(self._bound) < _MAX_CACHED_STATEMENTS:
                self._bound[key] = series
        series.record(elapsed)
        if span is not None and self.tracer is not None:
            if self.exemplars:
                series.record_exemplar(elapsed, span.trace_id, span.span_id)
            if error_type is not None:
                span.attributes.append(("error.type", error_type))
            self.tracer.finish(span, error=error_type is not None)
