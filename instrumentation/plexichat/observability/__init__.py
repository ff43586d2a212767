"""OpenTelemetry instrumentation for PlexiChat services.

Instrument a FastAPI or Starlette app in one call::

    from fastapi import FastAPI
    from plexichat.config import load_settings
    from plexichat.observability import instrument_app

    app = FastAPI()
    telemetry = instrument_app(app, load_settings())   # adds the middleware and /metrics

The app then serves Prometheus exposition at ``/metrics`` and, when
``performance.observability.otlp.endpoint`` (or ``OTEL_EXPORTER_OTLP_ENDPOINT``) is set,
exports metrics and traces over OTLP. ``instrument_engine(engine, telemetry)`` adds
database metrics for a SQLAlchemy ``AsyncEngine``. ``uninstrument_app(app)`` undoes it all.
"""

from plexichat.observability.app import (
    installed_telemetry,
    instrument_app,
    instrument_engine,
    uninstrument_app,
)
from plexichat.observability.metrics.registry import DEFAULT_REGISTRY, MetricRegistry
from plexichat.observability.telemetry import Telemetry
from plexichat.observability.version import __version__

__all__ = [
    "DEFAULT_REGISTRY",
    "MetricRegistry",
    "Telemetry",
    "__version__",
    "installed_telemetry",
    "instrument_app",
    "instrument_engine",
    "uninstrument_app",
]
