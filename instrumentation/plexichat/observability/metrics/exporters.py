"""The OTLP metric exporter, built from ``performance.observability.otlp``.

``protocol: http/protobuf`` (the default) uses the HTTP exporter, with the signal path
(``/v1/metrics``) appended to the endpoint as the OTLP specification says for
``OTEL_EXPORTER_OTLP_ENDPOINT``; ``grpc`` needs the ``grpc`` extra. (Spans have their own
lean exporter: :mod:`plexichat.observability.tracing.export`.) Exports run on the
SDK's background threads with the configured timeout, so a dead collector costs a log line,
never a request. Failures are logged at most once a minute per logger.

``histogram_aggregation`` (``OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION``) is
handed to both exporters as their preferred aggregation for the SDK's own histograms, because
they parse the variable differently (the HTTP exporter in any case and stripped, the gRPC one
only the exact lower-case spelling, warning and falling back to explicit buckets otherwise);
the lean registry's histograms follow it through
:class:`~plexichat.observability.metrics.readers.LeanSource`.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

from opentelemetry.sdk.metrics import Histogram
from opentelemetry.sdk.metrics.export import MetricExporter
from opentelemetry.sdk.metrics.view import (
    Aggregation,
    ExplicitBucketHistogramAggregation,
    ExponentialBucketHistogramAggregation,
)

if TYPE_CHECKING:
    from plexichat.config import Settings

_EXPORTER_LOGGERS = (
    "opentelemetry.exporter.otlp.proto.http",
    "opentelemetry.exporter.otlp.proto.grpc",
    "opentelemetry.exporter.otlp.proto.http.metric_exporter",
    "opentelemetry.exporter.otlp.proto.grpc.exporter",
    "opentelemetry.sdk.metrics._internal.export",
    "plexichat.observability.tracing.export",
    "opentelemetry.sdk._shared_internal",
)


class RateLimitFilter(logging.Filter):
    """Lets through one record per (logger, message template) per ``interval`` seconds."""

    def __init__(self, interval: float = 60.0) -> None:
        super().__init__()
        self.interval = interval
        self._last: dict[tuple[str, str], float] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        """Whether ``record`` may pass: the first of its logger and message template within
        ``interval`` seconds."""
        key = (record.name, str(record.msg))
        now = time.monotonic()
        if now - self._last.get(key, -self.interval) < self.interval:
            return False
        self._last[key] = now
        return True


_RATE_LIMIT = RateLimitFilter()


def rate_limit_exporter_logs() -> None:
    """Install the rate-limiting filter on the exporters' loggers (idempotent)."""
    for name in _EXPORTER_LOGGERS:
        logger = logging.getLogger(name)
        if _RATE_LIMIT not in logger.filters:
            logger.addFilter(_RATE_LIMIT)


def _http_endpoint(base: str, signal: str) -> str:
    return f"{base.rstrip('/')}/v1/{signal}"


def _grpc_insecure(endpoint: str) -> bool:
    """gRPC without TLS for ``http://`` and scheme-less endpoints, as the OTLP spec says."""
    return endpoint.startswith("http://") or "://" not in endpoint


def metric_exporter(settings: Settings) -> MetricExporter:
    """The OTLP metric exporter ``performance.observability.otlp`` configures (endpoint set):
    HTTP/protobuf to ``<endpoint>/v1/metrics``, or gRPC."""
    otlp = settings.performance.observability.otlp
    assert otlp.endpoint is not None
    headers = dict(otlp.headers)
    aggregation: dict[type, Aggregation] = {
        Histogram: ExponentialBucketHistogramAggregation()
        if exponential(settings)
        else ExplicitBucketHistogramAggregation()
    }
    if otlp.protocol == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import (
            OTLPMetricExporter as GrpcMetricExporter,
        )

        return GrpcMetricExporter(
            endpoint=otlp.endpoint,
            insecure=_grpc_insecure(otlp.endpoint),
            headers=headers,
            timeout=otlp.timeout_seconds,
            preferred_aggregation=aggregation,
        )
    from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter

    return OTLPMetricExporter(
        endpoint=_http_endpoint(otlp.endpoint, "metrics"),
        headers=headers,
        timeout=otlp.timeout_seconds,
        preferred_aggregation=aggregation,
    )


def exponential(settings: Settings) -> bool:
    """Whether OTLP sends native buckets (``base2_exponential_bucket_histogram``)."""
    aggregation = settings.performance.observability.otlp.histogram_aggregation
    return aggregation == "base2_exponential_bucket_histogram"
