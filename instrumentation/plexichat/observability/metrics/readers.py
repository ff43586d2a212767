"""The OTLP metric exporter's view: the lean registry's data added to what the SDK collected.

Each periodic export hands a ``MetricsData`` to :class:`MergingExporter`, which appends one
``ScopeMetrics`` built from a :class:`~plexichat.observability.metrics.registry.MetricRegistry`
(exemplars included), so OTLP carries the hot-path metrics exactly like SDK instruments; with
``exponential``, histograms with native buckets go as exponential histograms.
(Prometheus exposition renders the registry itself:
:mod:`~plexichat.observability.metrics.exposition`.)

In multi-worker mode every worker's reader ticks, but only the elected one
(:class:`~plexichat.observability.metrics.directory.Leadership`) exports, the merge of all
workers; the others try to take over at each tick, so a new exporter follows within one
interval of the leader's death.
"""

from __future__ import annotations

from typing import Any

from opentelemetry.sdk.metrics.export import (
    MetricExporter,
    MetricExportResult,
    MetricsData,
    ResourceMetrics,
    ScopeMetrics,
)
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.util.instrumentation import InstrumentationScope

from plexichat.observability.metrics.directory import Leadership
from plexichat.observability.metrics.registry import MetricRegistry


class LeanSource:
    """Turns a registry into a ``ScopeMetrics`` appended to each collection."""

    def __init__(
        self,
        registry: MetricRegistry,
        resource: Resource,
        scope: InstrumentationScope,
        *,
        exponential: bool = False,
    ) -> None:
        self.registry = registry
        self.resource = resource
        self.scope = scope
        self.exponential = exponential

    def merge(self, data: MetricsData | None) -> MetricsData:
        """``data`` plus our metrics, folded into the scope of the same name if the SDK's
        collection has one (OTLP encoders keep one entry per scope)."""
        ours = self.registry.collect(exponential=self.exponential)
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


class MergingExporter(MetricExporter):
    """Wraps an OTLP metric exporter so each periodic export also carries our data."""

    def __init__(
        self, inner: MetricExporter, source: LeanSource, leadership: Leadership | None = None
    ) -> None:
        super().__init__(
            preferred_temporality=inner._preferred_temporality,
            preferred_aggregation=inner._preferred_aggregation,
        )
        self._inner = inner
        self._source = source
        self._leadership = leadership

    def export(
        self, metrics_data: MetricsData, timeout_millis: float = 10_000, **kwargs: Any
    ) -> MetricExportResult:
        """Export the SDK's metrics plus the lean registry's; in multi-worker mode only the
        leader exports (the merge of all workers), the others report success."""
        leadership = self._leadership
        if leadership is not None:
            store = self._source.registry.store
            if store is None or not store.claimed or not leadership.try_acquire():
                return MetricExportResult.SUCCESS  # another worker exports for the instance
        return self._inner.export(self._source.merge(metrics_data), timeout_millis, **kwargs)

    def force_flush(self, timeout_millis: float = 10_000) -> bool:
        """Flush the wrapped exporter."""
        return self._inner.force_flush(timeout_millis)

    def shutdown(self, timeout_millis: float = 30_000, **kwargs: Any) -> None:
        """Shut the wrapped exporter down."""
        self._inner.shutdown(timeout_millis, **kwargs)
