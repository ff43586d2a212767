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
    """Add the telemetry middleware (and ``/metrics``) to ``app``; ``None`` if monitoring is off.

    Call it before the app serves its first request; an app that has already built its
    middleware stack is rebuilt on its next request."""
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
    """Remove what ``instrument_app`` installed and shut its telemetry down."""
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
