"""Database client metrics and spans for a SQLAlchemy engine (needs the ``service`` extra).

Every statement the engine sends records ``db.client.operation.duration`` (s) with
``db.system.name`` (``sqlite``, ``postgresql``, ...) and ``db.operation.name`` (the SQL
verb: ``SELECT``, ``INSERT``, ...; ``error.type`` when it failed). When a recording span is
current (a sampled request), each statement also gets a CLIENT child span.
"""

from __future__ import annotations

from time import perf_counter
from typing import TYPE_CHECKING, Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, ExceptionContext, ExecutionContext
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


def operation_name(statement: str) -> str:
    """The SQL verb of ``statement`` (``WITH ... SELECT`` counts as ``WITH``)."""
    head = statement.lstrip().split(None, 1)
    return head[0].upper() if head else "UNKNOWN"


class EngineInstrumentation:
    """Listens to one engine's cursor events."""

    def __init__(self, engine: AsyncEngine, telemetry: Telemetry) -> None:
        self.sync_engine = engine.sync_engine
        self.system = _SYSTEMS.get(self.sync_engine.dialect.name, self.sync_engine.dialect.name)
        self.tracer = telemetry.tracer
        self.family = telemetry.registry.instrument(
            "db.client.operation.duration",
            limit=telemetry.settings.performance.observability.series_limit,
        )
        self.exemplars = telemetry.exemplars
        self._ops: dict[str, str] = {}
        self._bound: dict[tuple[str, str | None], HistogramSeries] = {}
        event.listen(self.sync_engine, "before_cursor_execute", self._before)
        event.listen(self.sync_engine, "after_cursor_execute", self._after)
        event.listen(self.sync_engine, "handle_error", self._error)

    def remove(self) -> None:
        event.remove(self.sync_engine, "before_cursor_execute", self._before)
        event.remove(self.sync_engine, "after_cursor_execute", self._after)
        event.remove(self.sync_engine, "handle_error", self._error)

    def _operation(self, statement: str) -> str:
        op = self._ops.get(statement)
        if op is None:
            op = operation_name(statement)
            if len(self._ops) < _MAX_CACHED_STATEMENTS:
                self._ops[statement] = op
        return op

    def _before(
        self,
        conn: Connection,
        cursor: Any,
        statement: str,
        parameters: Any,
        context: ExecutionContext | None,
        executemany: bool,
    ) -> None:
        span = None
        if self.tracer is not None:
            op = self._operation(statement)
            span = self.tracer.child_span(
                f"{op} {self.system}",
                CLIENT,
                [
                    ("db.system.name", self.system),
                    ("db.operation.name", op),
                    ("db.query.text", statement),
                ],
            )
        conn.info["plexichat.db"] = (perf_counter(), span)

    def _finish(self, conn: Connection, statement: str, error_type: str | None) -> None:
        started = conn.info.pop("plexichat.db", None)
        if started is None:
            return
        start, span = started
        elapsed = perf_counter() - start
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

    def _after(
        self,
        conn: Connection,
        cursor: Any,
        statement: str,
        parameters: Any,
        context: ExecutionContext | None,
        executemany: bool,
    ) -> None:
        self._finish(conn, statement, None)

    def _error(self, exc: ExceptionContext) -> None:
        if exc.connection is not None and exc.statement is not None:
            self._finish(exc.connection, exc.statement, type(exc.original_exception).__qualname__)
