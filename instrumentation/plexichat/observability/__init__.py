"""OpenTelemetry wiring for PlexiChat services (work in progress: interface stub).

``instrument_app(app, settings)`` instruments a Starlette/FastAPI app and returns the
``Telemetry`` it installed (``None`` when ``performance.monitoring_enabled`` is false).
``instrument_engine(engine, telemetry)`` adds database metrics and spans to a SQLAlchemy
``AsyncEngine``.
"""
