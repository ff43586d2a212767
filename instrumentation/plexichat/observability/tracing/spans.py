"""Internal spans for code that runs inside an instrumented service (timers, cache calls).

``span(name, **attributes)`` is a context manager (usable in sync and async code) that opens
a child span when the current span is sampled — i.e. inside a sampled request of an app
whose ``Telemetry`` has tracing on — and does nothing otherwise. It never starts a trace of
its own, so code outside requests (start-up, background loops) is not traced, and an
unsampled request costs one check per call.

The tracer is the one of the most recently built ``Telemetry`` with tracing on (a service
has one); ``Telemetry.shutdown()`` clears it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from plexichat.observability.tracing.tracer import INTERNAL, ActiveSpan, LeanTracer

_tracer: list[LeanTracer] = []


def use_tracer(tracer: LeanTracer | None) -> None:
    """Make ``tracer`` the one ``span`` uses (``None``: stop tracing internal spans)."""
    _tracer[:] = [] if tracer is None else [tracer]


def active_tracer() -> LeanTracer | None:
    """The tracer spans go to, or ``None`` when tracing is off."""
    return _tracer[0] if _tracer else None


@contextmanager
def span(name: str, **attributes: str | int | float | bool) -> Iterator[ActiveSpan | None]:
    """A child span of the current sampled span, or nothing. An exception escaping the
    block marks the span as failed (``error.type``)."""
    tracer = _tracer[0] if _tracer else None
    current = tracer.child_span(name, INTERNAL, list(attributes.items())) if tracer else None
    if tracer is None or current is None:
        yield None
        return
    tracer.activate(current)
    try:
        yield current
    except BaseException as exc:
        current.attributes.append(("error.type", type(exc).__qualname__))
        tracer.finish(current, error=True)
        raise
    tracer.finish(current)
