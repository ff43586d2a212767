"""The ASGI middleware that measures every HTTP request (one small class, plain ASGI).

Per request it records, with the stable HTTP semantic conventions:

* ``http.server.request.duration`` (s) and ``plexichat.http.server.time_to_first_byte`` (s)
  — request received to the ``http.response.start`` message handed to the server, i.e. the
  moment the status line and headers are written — and ``http.server.response.body.size``
  (By), by ``http.request.method``, ``http.route``, ``http.response.status_code`` and
  ``error.type``;
* ``http.server.active_requests`` by ``http.request.method`` and ``url.scheme``.

``http.route`` is the route *template* the router matched (``/api/users/{user_id}``).
Requests that match no route carry no ``http.route`` (as the semantic conventions say), so
random URLs all land in one series per method and status. Methods outside the HTTP
registry are recorded as ``_OTHER``. ``error.type`` is the status code for 5xx responses and
the exception's class name when the app raised. The three histograms of an attribute set
are bound once and kept in a dict, so a request costs one dict lookup and three bisects.

Server spans (when tracing is on) come from the lean tracer
(:mod:`plexichat.observability.tracing.tracer`): sampled before anything is built, with the incoming
W3C ``traceparent`` as parent, named ``METHOD /route/template`` once the route is known, and
current while the request runs so database and internal spans nest under them.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Awaitable
from math import ceil, log2
from time import perf_counter
from typing import TYPE_CHECKING, Any

import anyio
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from plexichat.observability.metrics.instruments import (
    HistogramSeries,
    NativeHistogramSeries,
    UpDownCounterSeries,
)
from plexichat.observability.metrics.native import ZERO
from plexichat.observability.tracing.tracer import ActiveSpan

if TYPE_CHECKING:
    from plexichat.observability.telemetry import Telemetry

KNOWN_METHODS = frozenset(
    {"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH", "QUERY"}
)
_BOUND_CACHE_FACTOR = 4  # bound attribute sets kept per series budget before we stop caching


def matched_route(scope: Scope) -> Any:
    """The route object the router matched, or ``None``.

    FastAPI >= 0.16x keeps included routers nested: ``scope["route"]`` is the inner route
    (``/users/{user_id}``) and the route with the include prefixes (``/api/users/{user_id}``)
    is the effective route context FastAPI leaves in ``scope["fastapi"]``; plain Starlette
    routes carry their full template themselves."""
    fastapi_scope = scope.get("fastapi")
    if fastapi_scope is not None:
        effective = fastapi_scope.get("effective_route_context")
        if effective is not None:
            return effective
    return scope.get("route")


def route_template(route: Any) -> str | None:
    """The path template of a matched route (``None`` for no route)."""
    if route is None:
        return None
    template = getattr(route, "path_format", None) or getattr(route, "path", None)
    return template if isinstance(template, str) else None


def _native(series: HistogramSeries) -> NativeHistogramSeries | None:
    return series if isinstance(series, NativeHistogramSeries) else None


class BoundSeries:
    """The three histograms of one (method, route, status, error) combination, recorded
    together with one call: the per-request cost of the metrics is this method. The latency
    histograms' native buckets are recorded when the catalog gives them some (their series
    are then ``duration_native`` and ``ttfb_native`` too, else those are ``None``)."""

    __slots__ = (
        "body_size",
        "duration",
        "duration_native",
        "route",
        "template",
        "ttfb",
        "ttfb_native",
    )

    def __init__(
        self,
        route: Any,
        template: str | None,
        duration: HistogramSeries,
        ttfb: HistogramSeries,
        body_size: HistogramSeries,
    ) -> None:
        self.route = route
        self.template = template
        self.duration = duration
        self.ttfb = ttfb
        self.body_size = body_size
        self.duration_native = _native(duration)
        self.ttfb_native = _native(ttfb)

    def record(self, duration: float, ttfb: float, size: int) -> None:
        """Record one request's duration and time to first byte (s) and response body size
        (bytes)."""
        # HistogramSeries.record, inlined three times: this runs once per request.
        series = self.duration
        cells = series.cells
        cells[bisect_left(series.bounds, duration)] += 1
        cells[-3] += duration
        if duration < series.min:
            series.min = cells[-2] = duration
        if duration > series.max:
            series.max = cells[-1] = duration
        series = self.ttfb
        cells = series.cells
        cells[bisect_left(series.bounds, ttfb)] += 1
        cells[-3] += ttfb
        if ttfb < series.min:
            series.min = cells[-2] = ttfb
        if ttfb > series.max:
            series.max = cells[-1] = ttfb
        series = self.body_size
        cells = series.cells
        cells[bisect_left(series.bounds, size)] += 1
        cells[-3] += size
        if size < series.min:
            series.min = cells[-2] = size
        if size > series.max:
            series.max = cells[-1] = size
        # NativeHistogramSeries.record_native, inlined twice (a perf_counter difference is
        # finite, so log2 cannot fail; the slow path, a window move, is the method).
        native = self.duration_native
        if native is not None:
            if duration > native.zero_threshold:
                at = ceil(log2(duration) * native.factor) - native.first
                if 0 <= at < native.size:
                    native.native[at] += 1
                else:
                    native.record_native(duration)
            else:
                native.native[ZERO] += 1
        native = self.ttfb_native
        if native is not None:
            if ttfb > native.zero_threshold:
                at = ceil(log2(ttfb) * native.factor) - native.first
                if 0 <= at < native.size:
                    native.native[at] += 1
                else:
                    native.record_native(ttfb)
            else:
                native.native[ZERO] += 1

    def record_exemplars(self, duration: float, ttfb: float, span: ActiveSpan) -> None:
        """Leave the sampled request's trace on the buckets it fell in (latency histograms)."""
        self.duration.record_exemplar(duration, span.trace_id, span.span_id)
        self.ttfb.record_exemplar(ttfb, span.trace_id, span.span_id)


class TelemetryMiddleware:
    """ASGI middleware measuring every HTTP request (see the module docstring); ``instrument_app``
    installs it outermost.

    It also serves ``telemetry.metrics_path`` (``/metrics``) itself, lets ``excluded_paths`` (the
    probes) through unmeasured, and on ASGI lifespan startup calls ``telemetry.start()``.
    """

    def __init__(self, app: ASGIApp, telemetry: Telemetry) -> None:
        self.app = app
        self.telemetry = telemetry
        self.excluded = frozenset(telemetry.excluded_paths)
        self.metrics_path = telemetry.metrics_path
        self._duration = telemetry.http_duration
        self._ttfb = telemetry.http_ttfb
        self._body_size = telemetry.http_body_size
        self._active = telemetry.http_active
        self._bound: dict[tuple[str, int, int, str | None], BoundSeries] = {}
        self._bound_limit = _BOUND_CACHE_FACTOR * self._duration.limit
        self._active_bound: dict[tuple[str, str], UpDownCounterSeries] = {}
        self._tracer = telemetry.tracer
        self._exemplars = telemetry.exemplars

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Measure one HTTP request (and its span when sampled) while the app handles it; an
        exception from the app is recorded, then re-raised."""
        if scope["type"] != "http":
            if scope["type"] == "lifespan":
                self.telemetry.start()
                send = self._flushing_at_shutdown(send)
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        if path == self.metrics_path:
            await self.telemetry.serve_metrics(scope, receive, send)
            return
        if path in self.excluded:
            await self.app(scope, receive, send)
            return

        start = perf_counter()
        method = scope["method"]
        if method not in KNOWN_METHODS:
            method = "_OTHER"
        scheme = scope.get("scheme", "http")
        active = self._active_bound.get((method, scheme)) or self._active_series(method, scheme)
        active.cells[0] += 1
        status = 0
        first_byte = 0.0
        body_size = 0

        def send_wrapper(message: Message) -> Awaitable[None]:
            # A plain function returning ``send``'s awaitable: no coroutine of its own.
            nonlocal status, first_byte, body_size
            if message["type"] == "http.response.start":
                status = message["status"]
                first_byte = perf_counter()
            elif message["type"] == "http.response.body":
                body_size += len(message.get("body", b""))
            return send(message)

        span = None
        if self._tracer is not None:
            span = self._tracer.server_span(scope["headers"], method, scheme)
        error_type: str | None = None
        try:
            await self.app(scope, receive, send_wrapper)
        except BaseException as exc:
            error_type = type(exc).__qualname__
            if status == 0:
                status = 500
            raise
        finally:
            end = perf_counter()
            active.cells[0] -= 1
            if error_type is None and status >= 500:
                error_type = str(status)
            route = matched_route(scope)
            key = (method, id(route), status, error_type)
            bound = self._bound.get(key)
            if bound is None or bound.route is not route:
                bound = self._bind(key, route)
            duration, ttfb = end - start, (first_byte or end) - start
            bound.record(duration, ttfb, body_size)
            if span is not None:
                if self._exemplars:
                    bound.record_exemplars(duration, ttfb, span)
                self._end_span(span, scope["path"], bound.template, status, error_type)

    def _flushing_at_shutdown(self, send: Send) -> Send:
        """``send`` for the lifespan: once the app's own shutdown ran (its handlers may still
        record), flush telemetry on a thread before the server hears it may exit."""

        async def send_flushing(message: Message) -> None:
            if message["type"] in ("lifespan.shutdown.complete", "lifespan.shutdown.failed"):
                await anyio.to_thread.run_sync(self.telemetry.flush)
            await send(message)

        return send_flushing

    def _active_series(self, method: str, scheme: str) -> UpDownCounterSeries:
        self.telemetry.start()  # the first request of a server that runs no lifespan
        found = self._active.updowncounter((method, scheme))
        if len(self._active_bound) < self._bound_limit:
            self._active_bound[(method, scheme)] = found
        return found

    def _bind(self, key: tuple[str, int, int, str | None], route: Any) -> BoundSeries:
        """Bind the series of a new combination; keyed by the route object's identity
        (routes live as long as the app; ``bound.route is route`` guards id reuse)."""
        method, _, status, error_type = key
        template = route_template(route)
        attrs = (method, template, status, error_type)
        bound = BoundSeries(
            route,
            template,
            *(family.histogram(attrs) for family in (self._duration, self._ttfb, self._body_size)),
        )
        if len(self._bound) < self._bound_limit:
            self._bound[key] = bound
        return bound

    def _end_span(
        self,
        span: ActiveSpan,
        path: str,
        route: str | None,
        status: int,
        error_type: str | None,
    ) -> None:
        assert self._tracer is not None
        attributes = span.attributes
        if route is not None:
            span.name = f"{span.name} {route}"
            attributes.append(("http.route", route))
        attributes.append(("url.path", path))
        attributes.append(("http.response.status_code", status))
        if error_type is not None:
            attributes.append(("error.type", error_type))
        self._tracer.finish(span, error=error_type is not None)
