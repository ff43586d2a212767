"""A lean tracer: sampling first, span records as plain objects, OTLP export off-thread.

A stock SDK span costs ~28 µs to create and end here and its OTLP encoding ~30 µs more, and
every unsampled request still builds a non-recording span; spans waiting in the SDK's batch
queue are many small objects that trigger long full garbage collections. So:

* the sampling decision is taken *before* anything is built, with the same rule as the SDK
  samplers (``TraceIdRatioBased``: lower 64 bits of the trace id below ``ratio * 2**64``;
  ``parentbased_*``: follow the ``traceparent`` sampled flag when there is a parent). An
  unsampled request allocates nothing;
* a sampled span is one ``__slots__`` object while open, and one tuple of scalars once
  finished, queued for :class:`~plexichat.observability.tracing.export.SpanExporter`;
* the span is made current in the OpenTelemetry context (as a non-recording span carrying its
  ``SpanContext``), so database spans, ``spans.span()`` and any library using the
  OpenTelemetry API see the right parent.

W3C ``traceparent``/``tracestate`` are parsed as the Trace Context specification says; an
invalid header is ignored (a new trace starts).

Ids come from one generator of this module, reseeded from the OS in every child right after a
``fork()``: forked workers (``gunicorn --preload``, ``multiprocessing``) would otherwise all
continue the parent's sequence and draw the *same* trace and span ids. It is ours, not the
``random`` module's shared instance, so an application calling ``random.seed(0)`` does not make
trace ids predictable or repeat across processes.
"""

from __future__ import annotations

import os
import random
import time
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags, TraceState

from plexichat.observability.tracing.encoding import AttrValue
from plexichat.observability.tracing.export import SpanExporter

SERVER, CLIENT, INTERNAL = 2, 3, 1  # OTLP Span.SpanKind
_MASK64 = (1 << 64) - 1
_SAMPLED = TraceFlags(TraceFlags.SAMPLED)
_ROOT_RULES = ("always_on", "always_off", "traceidratio")

_IDS = random.Random()  # seeded from os.urandom
os.register_at_fork(after_in_child=_IDS.seed)  # seed() without an argument: from os.urandom


def parse_traceparent(value: str) -> tuple[int, int, bool] | None:
    """``(trace_id, parent_span_id, sampled)`` from a W3C ``traceparent``, or ``None``."""
    parts = value.strip().split("-")
    if len(parts) < 4 or len(parts[0]) != 2 or parts[0] == "ff":
        return None
    version, trace_hex, span_hex, flags_hex = parts[:4]
    if version == "00" and len(parts) != 4:
        return None
    if len(trace_hex) != 32 or len(span_hex) != 16 or len(flags_hex) != 2:
        return None
    try:
        trace_id, span_id, flags = int(trace_hex, 16), int(span_hex, 16), int(flags_hex, 16)
    except ValueError:
        return None
    if trace_id == 0 or span_id == 0 or trace_hex != trace_hex.lower():
        return None
    return trace_id, span_id, bool(flags & 1)


class ActiveSpan:
    """A sampled span being recorded."""

    __slots__ = (
        "attributes",
        "kind",
        "name",
        "parent_id",
        "span_id",
        "start_ns",
        "token",
        "trace_id",
        "trace_state",
    )

    def __init__(
        self,
        trace_id: int,
        span_id: int,
        parent_id: int,
        trace_state: str,
        name: str,
        kind: int,
        attributes: list[tuple[str, AttrValue]],
    ) -> None:
        self.trace_id = trace_id
        self.span_id = span_id
        self.parent_id = parent_id
        self.trace_state = trace_state
        self.name = name
        self.kind = kind
        self.attributes = attributes
        self.start_ns = time.time_ns()
        self.token: Any = None


class LeanTracer:
    """Samples requests and starts their spans (see the module docstring).

    Args:
        sampler: ``always_on``, ``always_off`` or ``traceidratio``, each with or without the
            ``parentbased_`` prefix (follow the incoming ``traceparent``'s sampled flag).
        ratio: The fraction of new traces sampled by ``traceidratio``, 0..1.
        exporter: Where finished spans are queued.

    Raises:
        ValueError: An unknown sampler or a ratio outside 0..1.
    """

    def __init__(self, sampler: str, ratio: float, exporter: SpanExporter) -> None:
        root = sampler.removeprefix("parentbased_")
        if root not in _ROOT_RULES:
            raise ValueError(
                f"unknown sampler {sampler!r}: expected one of {', '.join(_ROOT_RULES)} "
                "with or without the parentbased_ prefix"
            )
        if not 0.0 <= ratio <= 1.0:
            raise ValueError(f"sampler ratio must be within 0..1, got {ratio}")
        self.parent_based = sampler.startswith("parentbased_")
        self._bound = {
            "always_on": 1 << 64,
            "always_off": 0,
            "traceidratio": round(ratio * (1 << 64)),
        }[root]
        self.exporter = exporter
        self._scan_headers = bool(self._bound) or self.parent_based  # always_off never looks
        self._random_bits = _IDS.getrandbits

    def _new_id(self, bits: int) -> int:
        return self._random_bits(bits) or 1

    def server_span(
        self, headers: list[tuple[bytes, bytes]], method: str, scheme: str
    ) -> ActiveSpan | None:
        """Sample and, if sampled, start the SERVER span of a request."""
        parent: tuple[int, int, bool] | None = None
        trace_state = ""
        if self._scan_headers:
            for name, value in headers:
                if name == b"traceparent":
                    parent = parse_traceparent(value.decode("latin-1"))
                elif name == b"tracestate":
                    trace_state = value.decode("latin-1")[:512]
        if parent is None:
            # A root: draw the lower 64 bits first; they alone decide (as TraceIdRatioBased).
            low = self._random_bits(64)
            if low >= self._bound:
                return None
            trace_id, parent_id, trace_state = (self._random_bits(64) << 64 | low) or 1, 0, ""
        else:
            trace_id, parent_id, parent_sampled = parent
            # parentbased_*: follow the parent; the others apply their rule to its trace id
            if not (parent_sampled if self.parent_based else (trace_id & _MASK64) < self._bound):
                return None
        span = ActiveSpan(
            trace_id,
            self._new_id(64),
            parent_id,
            trace_state,
            method,
            SERVER,
            [("http.request.method", method), ("url.scheme", scheme)],
        )
        self.activate(span)
        return span

    def child_span(
        self, name: str, kind: int, attributes: list[tuple[str, AttrValue]]
    ) -> ActiveSpan | None:
        """A child of the current span when that span is sampled; else ``None``."""
        parent = trace.get_current_span().get_span_context()
        if not (parent.is_valid and parent.trace_flags.sampled):
            return None
        state = parent.trace_state.to_header() if parent.trace_state else ""
        return ActiveSpan(
            parent.trace_id, self._new_id(64), parent.span_id, state, name, kind, attributes
        )

    @staticmethod
    def activate(span: ActiveSpan) -> None:
        """Make ``span`` the current span of this context until ``finish``."""
        state = TraceState.from_header([span.trace_state]) if span.trace_state else None
        context = SpanContext(span.trace_id, span.span_id, False, _SAMPLED, state)
        span.token = otel_context.attach(trace.set_span_in_context(NonRecordingSpan(context)))

    def finish(self, span: ActiveSpan, error: bool = False) -> None:
        """End ``span`` now and queue it for export."""
        if span.token is not None:
            otel_context.detach(span.token)
            span.token = None
        self.exporter.submit(
            (
                span.trace_id,
                span.span_id,
                span.parent_id,
                span.trace_state,
                span.name,
                span.kind,
                span.start_ns,
                time.time_ns(),
                tuple(span.attributes),
                error,
            )
        )
