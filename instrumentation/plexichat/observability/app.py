"""``instrument_app`` / ``uninstrument_app``: one call to instrument a Starlette or FastAPI app.

Instrumenting is idempotent (a second call returns the installed ``Telemetry``) and undone
by ``uninstrument_app``. With ``performance.monitoring_enabled: false`` nothing is
installed: no middleware, no ``/metrics``, no providers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.applications import Starlette
from starlette.middleware import Middleware

from plexichat.observability.metrics.registry import MetricRegistry
from plexichat.observability.middleware import TelemetryMiddleware
from plexichat.observability.telemetry import Telemetry

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

    from plexichat.config import Settings

_STATE_KEY = "plexichat_telemetry"


def installed_telemetry(app: Starlette) -> Telemetry | None:
    """The ``Telemetry`` that ``instrument_app`` installed on ``app``, if any."""
    telemetry = getattr(app.state, _STATE_KEY, None)
    return telemetry if isinstance(telemetry, Telemetry) else None


def instrument_app(
    app: Starlette, settings: Settings, *, registry: MetricRegistry | None = None
) -> Telemetry | None:
    """Measure every request of ``app``, serve ``/metrics`` and export over OTLP.

    Adds the telemetry middleware outermost (so it times the other middleware too), which
    records the HTTP server metrics, starts sampled server spans and answers
    ``metrics.exporters.prometheus.path``; builds the :class:`Telemetry` (providers, readers,
    exporters, process gauges) from ``settings``. Call it before the app serves its first
    request; an app that has already built its middleware stack is rebuilt on its next request.
    Idempotent: a second call returns the installed ``Telemetry``. With
    ``performance.monitoring_enabled: false`` nothing is installed.

    Args:
        app: A Starlette or FastAPI application.
        settings: The service's settings (``load_settings()``).
        registry: Where the lean instruments record; default ``DEFAULT_REGISTRY``, which the
            guide's ``get_performance_logger()`` and ``CacheManager()`` also record into.

    Returns:
        The installed ``Telemetry`` (``shutdown()`` it, or call :func:`uninstrument_app`), or
        ``None`` when monitoring is off.

    Raises:
        OSError: ``observability.multiprocess_dir`` cannot be used (the message names it).

    Example::

        app = FastAPI()
        telemetry = instrument_app(app, load_settings())
        ...
        uninstrument_app(app)
    """
    if not settings.performance.monitoring_enabled:
        return None
    existing = installed_telemetry(app)
    if existing is not None:
        return existing
    telemetry = Telemetry(settings, registry=registry)
    # Outermost, so it times everything the app does, other middleware included.
    app.user_middleware.insert(0, Middleware(TelemetryMiddleware, telemetry=telemetry))
    app.middleware_stack = None
    setattr(app.state, _STATE_KEY, telemetry)
    return telemetry


def uninstrument_app(app: Starlette) -> None:
    """Remove what ``instrument_app`` installed and shut its telemetry down.

    The middleware and ``/metrics`` go (the app rebuilds its middleware stack on its next
    request); exporters are flushed and stopped, each bounded by the OTLP timeout; engine
    listeners added by :func:`instrument_engine` are removed. An app that is not instrumented is
    left as it is.
    """
    telemetry = installed_telemetry(app)
    if telemetry is None:
        return
    app.user_middleware[:] = [m for m in app.user_middleware if m.cls is not TelemetryMiddleware]  # type: ignore[comparison-overlap]
    app.middleware_stack = None
    delattr(app.state, _STATE_KEY)
    telemetry.shutdown()


def instrument_engine(engine: AsyncEngine, telemetry: Telemetry) -> None:
    """Record ``db.client.operation.duration`` (and child spans) for every statement."""
    from plexichat.observability.db_client import EngineInstrumentation

    telemetry.on_shutdown(EngineInstrumentation(engine, telemetry).remove)
