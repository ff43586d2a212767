"""One FastAPI app factory per benchmark variant; every variant serves the same endpoint.

``GET /api/items/{item_id}`` is an async handler returning a small JSON dict. FastAPI's own
OpenTelemetry telemetry (on by default in 0.16x as soon as a global provider is set) is
switched off in every variant, so each one measures exactly one instrumentation.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi import FastAPI

BASELINE = "baseline"
PLEXICHAT = "plexichat"
TRACED_10 = "plexichat-traced-10"
TRACED_100 = "plexichat-traced-100"
WORKERS = "plexichat-workers"
TRACED_10_NO_EXEMPLARS = "plexichat-traced-10-noex"
TRACED_100_NO_EXEMPLARS = "plexichat-traced-100-noex"
INSTRUMENTATOR = "instrumentator"
STARLETTE_EXPORTER = "starlette-exporter"
OTEL_METRICS = "otel-metrics"
OTEL_TRACED = "otel-traced"

_SHM = Path("/dev/shm")
# FastAPI(telemetry=...) options that keep the framework's native telemetry off.
NO_NATIVE_TELEMETRY: dict[str, Any] = {"tracing": False, "metrics": False, "logs": False}


def _base() -> FastAPI:
    app = FastAPI(
        telemetry=NO_NATIVE_TELEMETRY,  # type: ignore[arg-type]
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
    )

    @app.get("/api/items/{item_id}")
    async def get_item(item_id: int) -> dict[str, Any]:
        return {"id": item_id, "name": f"item-{item_id}", "price": 9.99, "tags": ["a", "b"]}

    return app


def _plexichat(
    sink: str | None,
    sampler: str,
    interval: int,
    *,
    exemplars: bool = True,
    multiprocess: bool = False,
) -> FastAPI:
    from plexichat.config import load_settings
    from plexichat.observability import instrument_app

    observability: dict[str, Any] = {}
    if sink is not None:
        observability = {
            "otlp": {"endpoint": sink, "protocol": "http/protobuf"},
            "tracing": {
                "enabled": True,
                "sampler": sampler,
                "sampler_arg": 0.1,
                "exemplars": exemplars,
            },
        }
    if multiprocess:  # multi-worker mode, this process its only worker: the per-request cost
        directory = tempfile.mkdtemp(prefix="plexichat-bench-", dir=_SHM if _SHM.is_dir() else None)
        atexit.register(shutil.rmtree, directory, True)
        observability["multiprocess_dir"] = directory
    overrides = {
        "performance": {"observability": observability, "metrics_collection_interval": interval}
    }
    app = _base()
    instrument_app(app, load_settings(environ={}, overrides=overrides))
    return app


def _instrumentator() -> FastAPI:
    from prometheus_fastapi_instrumentator import Instrumentator

    app = _base()
    Instrumentator().instrument(app).expose(app)
    return app


def _starlette_exporter() -> FastAPI:
    from starlette_exporter import PrometheusMiddleware, handle_metrics

    app = _base()
    app.add_middleware(PrometheusMiddleware)
    app.add_route("/metrics", handle_metrics)
    return app


def _otel(sink: str | None, interval: int) -> FastAPI:
    from opentelemetry import trace
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import MetricReader

    reader: MetricReader
    tracer_provider: trace.TracerProvider
    if sink is None:
        from opentelemetry.exporter.prometheus import PrometheusMetricReader

        reader = PrometheusMetricReader()
        tracer_provider = trace.NoOpTracerProvider()
    else:
        from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
        from opentelemetry.sdk.trace.sampling import ALWAYS_ON, ParentBased

        reader = PeriodicExportingMetricReader(
            OTLPMetricExporter(endpoint=f"{sink}/v1/metrics", timeout=2),
            export_interval_millis=interval * 1000,
        )
        sdk_tracer_provider = TracerProvider(sampler=ParentBased(ALWAYS_ON))
        sdk_tracer_provider.add_span_processor(
            BatchSpanProcessor(OTLPSpanExporter(endpoint=f"{sink}/v1/traces", timeout=2))
        )
        tracer_provider = sdk_tracer_provider
    app = _base()
    FastAPIInstrumentor.instrument_app(
        app, tracer_provider=tracer_provider, meter_provider=MeterProvider(metric_readers=[reader])
    )
    return app


Factory = Callable[[str | None, int], FastAPI]

FACTORIES: dict[str, Factory] = {
    BASELINE: lambda sink, interval: _base(),
    PLEXICHAT: lambda sink, interval: _plexichat(None, "parentbased_traceidratio", interval),
    TRACED_10: lambda sink, interval: _plexichat(sink, "parentbased_traceidratio", interval),
    TRACED_100: lambda sink, interval: _plexichat(sink, "parentbased_always_on", interval),
    WORKERS: lambda sink, interval: _plexichat(
        None, "parentbased_traceidratio", interval, multiprocess=True
    ),
    TRACED_10_NO_EXEMPLARS: lambda sink, interval: _plexichat(
        sink, "parentbased_traceidratio", interval, exemplars=False
    ),
    TRACED_100_NO_EXEMPLARS: lambda sink, interval: _plexichat(
        sink, "parentbased_always_on", interval, exemplars=False
    ),
    INSTRUMENTATOR: lambda sink, interval: _instrumentator(),
    STARLETTE_EXPORTER: lambda sink, interval: _starlette_exporter(),
    OTEL_METRICS: lambda sink, interval: _otel(None, interval),
    OTEL_TRACED: lambda sink, interval: _otel(sink, interval),
}
VARIANTS = tuple(FACTORIES)
NEEDS_SINK = frozenset(
    {TRACED_10, TRACED_100, TRACED_10_NO_EXEMPLARS, TRACED_100_NO_EXEMPLARS, OTEL_TRACED}
)


def build(variant: str, sink: str | None = None, metrics_interval: int = 5) -> FastAPI:
    """The app of ``variant``; ``sink`` is the OTLP/HTTP base URL for the exporting variants."""
    try:
        factory = FACTORIES[variant]
    except KeyError:
        raise ValueError(f"unknown variant {variant!r}: expected one of {VARIANTS}") from None
    if variant in NEEDS_SINK and sink is None:
        raise ValueError(f"variant {variant!r} needs an OTLP sink URL")
    return factory(sink, metrics_interval)
