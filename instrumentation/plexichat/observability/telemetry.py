"""``Telemetry``: the providers, readers, exporters and hot-path instruments of one service.

One object owns everything a service exports: a ``Resource`` (``service.name``,
``service.version``, ``deployment.environment.name`` and configured attributes), a
``MeterProvider`` whose readers are the Prometheus reader (on a private prometheus_client
registry rendered at ``/metrics``, beside the collector of the lean series) and, when an OTLP
endpoint is configured, a periodic OTLP reader; a
:class:`~plexichat.observability.tracing.tracer.LeanTracer` when tracing is on; and the lean
HTTP and database instruments on a
:class:`~plexichat.observability.metrics.registry.MetricRegistry`, plus the process gauges.
With ``performance.observability.multiprocess_dir`` the registry is shared with the other
workers of the instance (a worker claims its slot at ASGI lifespan startup, else at its first
request or scrape), and one elected worker exports.

It sets no global OpenTelemetry provider: FastAPI >= 0.16x switches its own telemetry on
when one is set, and two instrumentations would count every request twice.
"""

from __future__ import annotations

import logging
import socket
import threading
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import anyio.to_thread
from opentelemetry.exporter.prometheus import PrometheusMetricReader
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import MetricReader, PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from prometheus_client import CollectorRegistry
from starlette.types import Receive, Scope, Send

from plexichat.observability.exposition import render
from plexichat.observability.metrics.directory import Leadership, MultiprocessDirectory
from plexichat.observability.metrics.exporters import (
    exponential,
    metric_exporter,
    rate_limit_exporter_logs,
)
from plexichat.observability.metrics.exposition import LeanCollector
from plexichat.observability.metrics.instruments import Family
from plexichat.observability.metrics.listener import ExtraListener
from plexichat.observability.metrics.readers import LeanSource, MergingExporter
from plexichat.observability.metrics.registry import DEFAULT_REGISTRY, MetricRegistry
from plexichat.observability.process import ProcessMetrics
from plexichat.observability.responses import plain_text, respond
from plexichat.observability.tracing import spans
from plexichat.observability.tracing.setup import lean_tracer
from plexichat.observability.version import __version__

if TYPE_CHECKING:
    from plexichat.config import Settings

log = logging.getLogger("plexichat.observability")

SCOPE_NAME = "plexichat.observability"


def instance_id(directory: Path) -> str:
    """``service.instance.id`` of a multi-worker instance: the same in every worker (the SDK
    draws one per process), derived from the host and the directory they share."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"plexichat:{socket.gethostname()}:{directory}"))


def _resource(settings: Settings) -> Resource:
    obs = settings.performance.observability
    attributes: dict[str, str] = {}
    if obs.multiprocess_dir is not None:
        attributes["service.instance.id"] = instance_id(obs.multiprocess_dir.resolve())
    attributes.update(obs.resource_attributes)
    attributes.update(
        {
            "service.name": obs.service_name,
            "service.version": obs.service_version or __version__,
            "deployment.environment.name": obs.environment,
        }
    )
    return Resource.create(attributes)


class Telemetry:
    """Everything one instrumented service exports. Build one per app; ``shutdown()`` it."""

    def __init__(self, settings: Settings, *, registry: MetricRegistry | None = None) -> None:
        obs = settings.performance.observability
        prom = settings.performance.metrics.exporters.prometheus
        self.settings = settings
        self.registry = registry if registry is not None else DEFAULT_REGISTRY
        self.metrics_path = prom.path
        self.excluded_paths = tuple(obs.excluded_paths)
        self.resource = _resource(settings)
        rate_limit_exporter_logs()

        self.leadership: Leadership | None = None
        if obs.multiprocess_dir is not None:
            shared = self.registry.share(MultiprocessDirectory(obs.multiprocess_dir))
            self.leadership = Leadership(shared.directory)
        self.tracer = lean_tracer(settings, self.resource, SCOPE_NAME, __version__)
        self.exemplars = self.tracer is not None and obs.tracing.exemplars
        self.registry.limit_series(obs.series_limit)
        self._define_http_instruments()
        source = LeanSource(
            self.registry,
            self.resource,
            InstrumentationScope(SCOPE_NAME, __version__),
            exponential=exponential(settings),
        )
        self.prometheus_registry = CollectorRegistry(auto_describe=False)
        readers: list[MetricReader] = [PrometheusMetricReader(registry=self.prometheus_registry)]
        # After the reader's collector: the SDK's instruments and target_info print first.
        self.prometheus_registry.register(LeanCollector(self.registry, SCOPE_NAME, __version__))
        self._otlp_reader: PeriodicExportingMetricReader | None = None
        if obs.otlp.endpoint and obs.otlp.metrics_enabled:
            self._otlp_reader = PeriodicExportingMetricReader(
                MergingExporter(metric_exporter(settings), source, self.leadership),
                export_interval_millis=settings.performance.metrics_collection_interval * 1000,
                export_timeout_millis=obs.otlp.timeout_seconds * 1000,
            )
            readers.append(self._otlp_reader)
        self.meter_provider = MeterProvider(resource=self.resource, metric_readers=readers)
        store = self.registry.store
        ProcessMetrics(
            self.meter_provider.get_meter(SCOPE_NAME, __version__),
            settings.performance.resource_limits.max_memory_usage,
            None if store is None else store.live_pids,
        )
        if self.tracer is not None:
            spans.use_tracer(self.tracer)
        self._render_lock = threading.Lock()
        self._on_shutdown: list[Callable[[], None]] = []
        self._extra_listener: ExtraListener | None = None
        if prom.enabled and prom.port is not None and prom.port != settings.service.port:
            self._extra_listener = ExtraListener(
                settings.service.host,
                prom.port,
                self.prometheus_registry,
                self.leadership,
                ready=lambda: store is not None and store.claimed,
            )

    def start(self) -> None:
        """The app serves (ASGI lifespan startup, or its first request or scrape when the
        server runs no lifespan): in multi-worker mode, claim this worker's slot (once)."""
        self.registry.claim()

    def _define_http_instruments(self) -> None:
        instrument = self.registry.instrument
        self.http_duration: Family = instrument("http.server.request.duration")
        self.http_ttfb: Family = instrument("plexichat.http.server.time_to_first_byte")
        self.http_body_size: Family = instrument("http.server.response.body.size")
        self.http_active: Family = instrument("http.server.active_requests")

    def render_metrics(self, accept: str | None) -> tuple[bytes, str]:
        """Prometheus exposition of everything, in the format ``accept`` asks for (text,
        OpenMetrics, or the delimited protobuf: :mod:`plexichat.observability.exposition`)."""
        with self._render_lock:
            return render(self.prometheus_registry, accept)

    async def serve_metrics(self, scope: Scope, receive: Receive, send: Send) -> None:
        """ASGI handler for ``/metrics``: renders on a worker thread, off the event loop."""
        if not self.settings.performance.metrics.exporters.prometheus.enabled:
            await plain_text(send, 404, "Not Found")
            return
        if scope["method"] not in ("GET", "HEAD"):
            await plain_text(send, 405, "Method Not Allowed")
            return
        self.start()  # on the event loop, not beside its writes on the rendering thread
        accept = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"accept"), None)
        body, content_type = await anyio.to_thread.run_sync(self.render_metrics, accept)
        await respond(send, 200, b"" if scope["method"] == "HEAD" else body, content_type)

    def on_shutdown(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` when this telemetry shuts down (e.g. remove engine listeners)."""
        self._on_shutdown.append(callback)

    def flush(self) -> None:
        """Export queued spans and a metric collection now (bounded by the OTLP timeout), and
        keep running: the ASGI lifespan shutdown of a worker that is about to exit (recycled by
        ``--max-requests``, terminated), whose export threads die with it; the app may serve a
        lifespan again, so this is not :meth:`shutdown`."""
        timeout = self.settings.performance.observability.otlp.timeout_seconds
        if self.tracer is not None:
            self.tracer.exporter.flush(timeout)
        # The OTLP reader only: a collection by the Prometheus reader is queued until the next
        # scrape, which would then print every SDK series twice.
        if self._otlp_reader is not None:
            self._otlp_reader.force_flush(timeout_millis=timeout * 1000)

    def shutdown(self) -> None:
        """Flush and stop exporters, readers and the extra listener (bounded by timeouts)."""
        for callback in self._on_shutdown:
            callback()
        self._on_shutdown.clear()
        if self._extra_listener is not None:
            self._extra_listener.shutdown()
            self._extra_listener = None
        timeout = self.settings.performance.observability.otlp.timeout_seconds
        if self.tracer is not None:
            if spans.active_tracer() is self.tracer:
                spans.use_tracer(None)
            self.tracer.exporter.shutdown(timeout)
        # A flush first: once shut down, the SDK no longer observes its own gauges.
        timeout_ms = timeout * 1000
        self.meter_provider.force_flush(timeout_millis=timeout_ms)
        self.meter_provider.shutdown(timeout_millis=timeout_ms)
        if self.leadership is not None:
            self.leadership.release()
            self.leadership = None
            self.registry.unshare()
