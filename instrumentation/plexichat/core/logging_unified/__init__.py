"""The guide's performance logger: ``get_performance_logger()``.

Mapping to instruments (../shared/DESIGN.md, "The catalog"):

* ``increment_counter("x", value=1, **attributes)`` -> counter ``plexichat.x``
* ``record_gauge("x", v, **attributes)`` -> gauge ``plexichat.x``
* ``record_histogram("x", v, **attributes)`` -> histogram ``plexichat.x``
* ``record_timer("x", seconds)``, ``with timer("x")`` / ``async with timer("x")`` and
  ``@time_function`` -> histogram ``plexichat.operation.duration`` (s) with attribute
  ``operation="x"``; ``timer`` and ``time_function`` also open an internal span named
  ``x`` under a sampled request when tracing is on (:mod:`plexichat.observability.tracing.spans`),
  and nothing more when it is off

The ``plexichat.performance`` Python logger is the *performance log* (slow queries, cache tier
state changes, profiles): :func:`configure_performance_log` sends it to
``performance.performance_log_file`` (``logs/performance.log`` by default, ``-`` for stdout as
in containers with a read-only root filesystem) at ``performance.performance_logging_level``;
``PLEXICHAT_LOG_LEVEL``, when set, overrides that level. A line written inside a sampled
request ends with its ``trace_id=… span_id=…`` (:mod:`plexichat.observability.tracing.log_context`).

Names are snake_case; a bad name, a negative counter increment or a name reused with
another kind raises ``ValueError`` at the call site. A name the metric catalog defines
(``plexichat.messages_sent``, the service's business metrics) takes the catalog's unit,
description and attributes, and recording it as another kind or with other attributes is a
``ValueError``; any other name is the caller's own and gets a description derived from it,
so ``/metrics`` has HELP text for each. Recording goes to a lean,
pre-bound series (see :mod:`plexichat.observability.metrics.instruments`): no SDK call per event.
"""

from __future__ import annotations

import functools
import inspect
import logging
import os
import re
import sys
from collections.abc import Awaitable, Callable
from contextlib import AbstractContextManager
from pathlib import Path
from time import perf_counter
from types import TracebackType
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar, cast

from plexichat.catalog.validation import SNAKE_WORD
from plexichat.config.scalars import log_level
from plexichat.observability.metrics.instruments import CounterSeries, Family, HistogramSeries
from plexichat.observability.metrics.registry import DEFAULT_REGISTRY, MetricRegistry
from plexichat.observability.tracing import spans
from plexichat.observability.tracing.log_context import TRACE_CONTEXT_FORMAT, TraceContextFilter

if TYPE_CHECKING:
    from plexichat.config import Settings

P = ParamSpec("P")
R = TypeVar("R")

OPERATION_DURATION = "plexichat.operation.duration"
VALUE_BUCKETS = (0, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000, 100_000_000)
PERFORMANCE_LOG = logging.getLogger("plexichat.performance")
"""The performance log: slow queries, cache tier states, profiles."""
_HANDLER_MARK = "_plexichat_performance_log"


def _check(name: str) -> str:
    if not isinstance(name, str) or not SNAKE_WORD.match(name):
        raise ValueError(
            f"invalid metric name {name!r}: use snake_case (lowercase letters, digits and "
            "underscores, starting with a letter), e.g. 'messages_sent'"
        )
    return name


def _describe(name: str, what: str) -> str:
    return f"{what} {name.replace('_', ' ')} (recorded with the performance logger)."


class PerformanceLogger:
    """The guide's performance logger: counters, gauges, histograms and timers named
    ``plexichat.<name>``, exported with every other metric (``/metrics``, OTLP).

    Get the process-wide one with :func:`get_performance_logger`; build one with ``registry=`` in
    tests. Names are snake_case (``messages_sent``). A name the metric catalog defines takes the
    catalog's unit, description and attributes; any other gets a description derived from it. A
    bad name, a negative increment, or one name used as two kinds raises ``ValueError`` at the
    call. Recording costs a dictionary lookup and an addition, no SDK call. Writers are expected
    on one thread (the event loop): from several threads at once an increment may, rarely, be
    lost.

    Args:
        registry: Where to record; default ``DEFAULT_REGISTRY``.
    """

    def __init__(self, registry: MetricRegistry | None = None) -> None:
        self.registry = registry if registry is not None else DEFAULT_REGISTRY
        self._plain: dict[tuple[str, str], CounterSeries | HistogramSeries] = {}
        self._families: dict[tuple[str, str], Family] = {}
        self._timers = self.registry.instrument(OPERATION_DURATION)

    def _family(self, kind: str, name: str) -> Family:
        family = self._families.get((kind, name))
        if family is None:
            _check(name)
            full_name = f"plexichat.{name}"
            if self.registry.catalog.defines(full_name):
                spec = self.registry.catalog.instrument(full_name)
                if spec.kind != kind:
                    raise ValueError(
                        f"metric {full_name!r} is a {spec.kind} in the metric catalog, not a {kind}"
                    )
                family = self.registry.instrument(full_name)
            elif kind == "counter":
                family = self.registry.family(
                    f"plexichat.{name}", "counter", "1", _describe(name, "Count of"), None
                )
            elif kind == "gauge":
                family = self.registry.family(
                    f"plexichat.{name}", "gauge", "1", _describe(name, "Current"), None
                )
            else:
                family = self.registry.family(
                    f"plexichat.{name}",
                    "histogram",
                    "1",
                    _describe(name, "Distribution of"),
                    None,
                    boundaries=VALUE_BUCKETS,
                )
            self._families[(kind, name)] = family
        return family

    def _series(self, kind: str, name: str, attributes: dict[str, Any]) -> Any:
        if not attributes:
            series = self._plain.get((kind, name))
            if series is None:
                series = _bind(self._family(kind, name), {})
                self._plain[(kind, name)] = series
            return series
        return _bind(self._family(kind, name), attributes)

    def increment_counter(self, name: str, value: float = 1, **attributes: str | int) -> None:
        """Add ``value`` (default 1; negative is a ``ValueError``) to counter ``plexichat.<name>``.

        ``attributes`` label the series (a catalog instrument takes only its catalog attributes).
        Example: ``perf.increment_counter("messages_sent")``.
        """
        if value < 0:
            raise ValueError(
                f"counter {name!r} can only increase: got increment {value} "
                "(use record_gauge for values that go down)"
            )
        self._series("counter", name, attributes).value += value

    def record_gauge(self, name: str, value: float, **attributes: str | int) -> None:
        """Set gauge ``plexichat.<name>`` (for ``attributes``) to ``value``; the last value set is
        exported."""
        self._series("gauge", name, attributes).value = value

    def record_histogram(self, name: str, value: float, **attributes: str | int) -> None:
        """Record ``value`` in histogram ``plexichat.<name>`` (for ``attributes``).

        The caller's own histograms have buckets at 0, 10, 100, ... 10^8, in whatever unit the
        values have; a catalog instrument has the catalog's. Example:
        ``perf.record_histogram("file_upload_size", file_size)``.
        """
        self._series("histogram", name, attributes).record(value)

    def record_timer(self, name: str, seconds: float) -> None:
        """Record ``seconds`` as one ``plexichat.operation.duration`` event of ``name``."""
        series = self._plain.get(("timer", name))
        if series is None:
            series = self._timers.series((_check(name),))
            self._plain[("timer", name)] = series
        series.record(seconds)  # type: ignore[union-attr]

    def timer(self, name: str) -> Timer:
        """Time a ``with`` or ``async with`` block as operation ``name``."""
        return Timer(self, _check(name))

    def time_function(self, func: Callable[P, R]) -> Callable[P, R]:
        """Decorator timing each call of a sync or async function under its qualified name."""
        name = re.sub(r"[^a-z0-9_]+", "_", func.__qualname__.lower()).strip("_")
        _check(name)
        if inspect.iscoroutinefunction(func):
            async_func = cast(Callable[P, Awaitable[Any]], func)

            @functools.wraps(func)
            async def async_wrapper(*args: P.args, **kwargs: P.kwargs) -> Any:
                with Timer(self, name):
                    return await async_func(*args, **kwargs)

            return cast(Callable[P, R], async_wrapper)

        @functools.wraps(func)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            with Timer(self, name):
                return func(*args, **kwargs)

        return wrapper


def _bind(family: Family, attributes: dict[str, Any]) -> CounterSeries | HistogramSeries:
    """The series of ``attributes``: free-form for the caller's own metrics, the catalog's
    attribute names (any subset) for a catalog instrument."""
    names = family.attribute_names
    if names is None:
        return family.free_series(tuple(sorted(attributes.items())))
    unknown = sorted(set(attributes) - set(names))
    if unknown:
        raise ValueError(
            f"metric {family.name!r} takes the attributes {list(names)} (metric catalog), "
            f"not {unknown}"
        )
    return family.series(tuple(attributes.get(n) for n in names))


class Timer:
    """``with``/``async with`` timer of one operation; opens a span when tracing is on."""

    __slots__ = ("_logger", "_name", "_span", "_start")

    def __init__(self, logger: PerformanceLogger, name: str) -> None:
        self._logger = logger
        self._name = name
        self._span: AbstractContextManager[object] | None = None
        self._start = 0.0

    def __enter__(self) -> Timer:
        if spans.active_tracer() is not None:
            self._span = spans.span(self._name, operation=self._name)
            self._span.__enter__()
        self._start = perf_counter()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._logger.record_timer(self._name, perf_counter() - self._start)
        if self._span is not None:
            current, self._span = self._span, None
            current.__exit__(exc_type, exc, tb)

    async def __aenter__(self) -> Timer:
        return self.__enter__()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.__exit__(exc_type, exc, tb)


def performance_log_level(settings: Settings, environ: dict[str, str] | None = None) -> str:
    """``PLEXICHAT_LOG_LEVEL`` when set, else ``performance.performance_logging_level``."""
    env = os.environ if environ is None else environ
    given = env.get("PLEXICHAT_LOG_LEVEL", "")
    if not given.strip():
        return settings.performance.performance_logging_level
    try:
        return log_level(given)
    except ValueError as exc:
        raise ValueError(f"PLEXICHAT_LOG_LEVEL: {exc}") from None


def configure_performance_log(
    settings: Settings, environ: dict[str, str] | None = None
) -> logging.Logger:
    """Send the performance log to ``performance.performance_log_file`` (``-``: stdout) at the
    configured level; idempotent (replaces the handler it added before)."""
    PERFORMANCE_LOG.setLevel(performance_log_level(settings, environ))
    for old in list(PERFORMANCE_LOG.handlers):
        if getattr(old, _HANDLER_MARK, False):
            PERFORMANCE_LOG.removeHandler(old)
            old.close()
    target = settings.performance.performance_log_file
    handler: logging.Handler
    if target == "-":
        handler = logging.StreamHandler(sys.stdout)
    else:
        path = Path(target)
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(
        logging.Formatter(f"%(asctime)s %(levelname)s %(name)s %(message)s{TRACE_CONTEXT_FORMAT}")
    )
    handler.addFilter(TraceContextFilter())
    setattr(handler, _HANDLER_MARK, True)
    PERFORMANCE_LOG.addHandler(handler)
    return PERFORMANCE_LOG


_DEFAULT: PerformanceLogger | None = None


def get_performance_logger() -> PerformanceLogger:
    """The process-wide performance logger (made on the first call), recording into
    ``DEFAULT_REGISTRY``: what ``instrument_app`` exports unless given another registry.

    Example::

        perf_logger = get_performance_logger()

        @perf_logger.time_function
        async def slow_operation() -> None: ...

        with perf_logger.timer("custom_operation"):
            ...
        perf_logger.increment_counter("api_calls")
        perf_logger.record_gauge("active_connections", 150)
        perf_logger.record_histogram("response_size", 2048)
    """
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = PerformanceLogger()
    return _DEFAULT
