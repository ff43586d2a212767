"""Internal spans for code that runs inside an instrumented service (timers, cache calls).

``span(name, **attributes)`` is a context manager (usable in sync and async code) that opens
a child span when the current span is recording — i.e. inside a sampled request of an app
whose ``Telemetry`` has tracing on — and does nothing otherwise. It never starts a trace of
its own, so code outside requests (start-up, background loops) is not traced, and an
unsampled request costs one check per call.

The tracer is the one of the most recently built ``Telemetry`` with tracing on (a service
has one); ``Telemetry.shutdown()`` clears it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from opentelemetry import trace
from opentelemetry.trace import Span, Tracer

_tracer: list[Tracer] = []


def use_tracer(tracer: Tracer | None) -> None:
    """Make ``tracer`` the one ``span`` uses (``None``: stop tracing internal spans)."""
    _tracer[:] = [] if tracer is None else [tracer]


def active_tracer() -> Tracer | None:
    return _tracer[0] if _tracer else None


@contextmanager
def span(name: str, **attributes: str | int | float | bool) -> Iterator[Span | None]:
    """A child span of the current recording span, or nothing."""
    if not _tracer or not trace.get_current_span().is_recording():
        yield None
        return
    with _tracer[0].start_as_current_span(
        name, kind=trace.SpanKind.INTERNAL, attributes=attributes
    ) as current:
        yield current
