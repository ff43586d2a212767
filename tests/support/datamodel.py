"""A registry's collection read back through the OpenTelemetry data model, typed (as
client_python's tests read values back, never internals)."""

from __future__ import annotations

from opentelemetry.sdk.metrics.export import HistogramDataPoint, Metric, NumberDataPoint
from opentelemetry.util.types import AnyValue

from plexichat.observability.metrics.registry import MetricRegistry


def metrics(registry: MetricRegistry) -> dict[str, Metric]:
    return {m.name: m for m in registry.collect()}


def number_points(registry: MetricRegistry, name: str) -> list[NumberDataPoint]:
    """The points of counter, up-down counter or gauge ``name``."""
    points = metrics(registry)[name].data.data_points
    assert all(isinstance(p, NumberDataPoint) for p in points), name
    return [p for p in points if isinstance(p, NumberDataPoint)]


def histogram_points(registry: MetricRegistry, name: str) -> list[HistogramDataPoint]:
    """The points of histogram ``name``."""
    points = metrics(registry)[name].data.data_points
    assert all(isinstance(p, HistogramDataPoint) for p in points), name
    return [p for p in points if isinstance(p, HistogramDataPoint)]


def attributes(point: NumberDataPoint | HistogramDataPoint) -> dict[str, AnyValue]:
    return dict(point.attributes or {})


def values(registry: MetricRegistry, name: str) -> dict[tuple[tuple[str, AnyValue], ...], float]:
    """``name``'s values by their sorted attribute pairs."""
    return {tuple(sorted(attributes(p).items())): p.value for p in number_points(registry, name)}


Snapshot = dict[tuple[str, tuple[tuple[str, AnyValue], ...]], float]


def number_values(registry: MetricRegistry) -> Snapshot:
    """Every counter, up-down counter and gauge value of one collection, by name and sorted
    attribute pairs (a before/after snapshot)."""
    return {
        (m.name, tuple(sorted(attributes(p).items()))): float(p.value)
        for m in registry.collect()
        for p in m.data.data_points
        if isinstance(p, NumberDataPoint)
    }
