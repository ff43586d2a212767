"""Metric readers that add the lean registry's data to what the OTel SDK collected.

The SDK's readers hand a ``MetricsData`` to ``_receive_metrics`` (an extension point the SDK
documents for subclasses). We append one ``ScopeMetrics`` built from a
:class:`~plexichat.observability.metrics.registry.MetricRegistry`, so Prometheus exposition and
OTLP export carry the hot-path metrics exactly like SDK instruments.
"""

from __future__ import annotations

from typing import Any

from opentelemetry.exporter.prometheus import PrometheusMetricReader
from opentelemetry.sdk.metrics.export import (
    MetricExporter,
    MetricExportResult,
    MetricsData,
    ResourceMetrics,
    ScopeMetrics,
)
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from prometheus_client import CollectorRegistry

from plexichat.observability.metrics.registry import MetricRegistry


class LeanSource:
    """Turns a registry into a ``ScopeMetrics`` appended to each collection."""

    def __init__(
        self,
        registry: MetricRegistry,
        resource: Resource,
        scope: InstrumentationScope,
    ) -> None:
        self.registry = registry
        self.resource = resource
        self.scope = scope

    def merge(self, data: MetricsData | None) -> MetricsData:
        """``data`` plus our metrics, folded into the scope of the same name if the SDK's
        collection has one (OTLP encoders keep one entry per scope)."""
        ours = self.registry.collect()
        if data is None or not data.resource_metrics:
            scope = ScopeMetrics(scope=self.scope, metrics=ours, schema_url="")
            return MetricsData(
                resource_metrics=[
                    ResourceMetrics(resource=self.resource, scope_metrics=[scope], schema_url="")
                ]
            )
        first, *rest = data.resource_metrics
        scopes = list(first.scope_metrics)
        for i, sm in enumerate(scopes):
            if sm.scope == self.scope:
                scopes[i] = ScopeMetrics(sm.scope, [*sm.metrics, *ours], sm.schema_url)
                break
        else:
            scopes.append(ScopeMetrics(scope=self.scope, metrics=ours, schema_url=""))
        merged = ResourceMetrics(
            resource=first.resource, scope_metrics=scopes, schema_url=first.schema_url
        )
        return MetricsData(resource_metrics=[merged, *rest])


class PrometheusReader(PrometheusMetricReader):
    """The OTel Prometheus reader, on a private prometheus_client registry, plus our data."""

    def __init__(self, source: LeanSource, registry: CollectorRegistry) -> None:
        super().__init__(registry=registry)
        self._source = source

    def _receive_metrics(
        self, metrics_data: MetricsData, timeout_millis: float = 10_000, **kwargs: Any
    ) -> None:
        super()._receive_metrics(self._source.merge(metrics_data), timeout_millis, **kwargs)


class MergingExporter(MetricExporter):
    """Wraps an OTLP metric exporter so each periodic export also carries our data."""

    def __init__(self, inner: MetricExporter, source: LeanSource) -> None:
        super().__init__(
            preferred_temporality=inner._preferred_temporality,
            preferred_aggregation=inner._preferred_aggregation,
        )
        self._inner = inner
        self._source = source

    def export(
        self, metrics_data: MetricsData, timeout_millis: float = 10_000, **kwargs: Any
    ) -> MetricExportResult:
        return self._inner.export(self._source.merge(metrics_data), timeout_millis, **kwargs)

    def force_flush(self, timeout_millis: float = 10_000) -> bool:
        return self._inner.force_flush(timeout_millis)

    def shutdown(self, timeout_millis: float = 30_000, **kwargs: Any) -> None:
        self._inner.shutdown(timeout_millis, **kwargs)
