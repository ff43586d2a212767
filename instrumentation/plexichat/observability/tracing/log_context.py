"""Trace context on log lines: the ``trace_id`` and ``span_id`` of the sampled span that is
current when a record is made, so a slow-query line or an access-log line leads to its trace.

:class:`TraceContextFilter` is a ``logging.Filter`` for handlers: it never drops a record, it
sets ``record.trace_id`` and ``record.span_id`` (32 and 16 lowercase hex digits, as in W3C
``traceparent`` and in Tempo/Jaeger URLs; empty strings outside a sampled span) and
``record.trace_context`` (`` trace_id=… span_id=…`` with its leading space, or empty) for
formats to use: ``"%(message)s%(trace_context)s"``. Handlers run in the thread and context
that logs, so inside a request the current span is the request's (the lean tracer makes it
current in the OpenTelemetry context; so does any OpenTelemetry-API tracer). Unsampled
requests carry no ids: their trace exists nowhere to be looked up.
"""

from __future__ import annotations

import logging

from opentelemetry import trace

TRACE_CONTEXT_FORMAT = "%(trace_context)s"
"""What to append to a log format to end its lines with the trace context."""


class TraceContextFilter(logging.Filter):
    """Adds ``trace_id``, ``span_id`` and ``trace_context`` to every record it sees."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Set the record's trace fields (empty outside a sampled span); never drops a record."""
        context = trace.get_current_span().get_span_context()
        trace_id = span_id = trace_context = ""
        if context.is_valid and context.trace_flags.sampled:
            trace_id, span_id = f"{context.trace_id:032x}", f"{context.span_id:016x}"
            trace_context = f" trace_id={trace_id} span_id={span_id}"
        record.trace_id, record.span_id = trace_id, span_id
        record.trace_context = trace_context
        return True
