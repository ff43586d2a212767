"""Prometheus exposition of the lean registry, exemplars included.

The OpenTelemetry Prometheus exporter renders the SDK's own instruments (the process gauges)
and ``target_info``; it drops exemplars and its translation functions are private. So the
lean registry is rendered by :class:`LeanCollector`, a prometheus_client collector of ours on
the same ``CollectorRegistry``, translating as the OpenTelemetry specification's Prometheus
compatibility section says and as that exporter does — names sanitised with the unit
appended (``s`` → ``_seconds``, ``By`` → ``_bytes``, ``{annotations}`` and ``1`` dropped),
counters with ``_total``, up-down counters as gauges, attributes as sorted labels (absent
ones as ``""`` when another series of the family has them), the ``otel_scope_*`` labels —
so plain-text ``/metrics`` is byte for byte what the exporter printed
(``tests/observability/metrics/test_exposition.py`` pins it).

Exemplars (OpenMetrics only; the plain text format has none): one per bucket, the newest
that fell in it; a bucket with none of its own shows the one of the nearest lower bucket
that has one (the specification's rule: Prometheus buckets are cumulative, so that value
lies within this bucket too), or none. Labels ``trace_id`` and ``span_id`` in W3C hex, the
timestamp in seconds.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence

from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.samples import Exemplar as PromExemplar

from plexichat.catalog.prometheus import label_name, metric_name, unit_suffix
from plexichat.observability.exposition.native import NativeBuckets, NativeHistogramFamily
from plexichat.observability.metrics.instruments import Exemplar, Family
from plexichat.observability.metrics.native import NativePoint
from plexichat.observability.metrics.points import HistogramPoint, Value
from plexichat.observability.metrics.registry import MetricRegistry
from plexichat.observability.metrics.slots import SeriesKey


def _label_value(value: object) -> str:
    return value if isinstance(value, str) else json.dumps(value, default=str)


def _prometheus_exemplar(exemplar: Exemplar) -> PromExemplar:
    value, time_ns, trace_id, span_id = exemplar
    labels = {"trace_id": f"{trace_id:032x}", "span_id": f"{span_id:016x}"}
    return PromExemplar(labels, value, time_ns / 1e9)


def bucket_exemplars(exemplars: list[Exemplar | None]) -> list[PromExemplar | None]:
    """Per bucket its own exemplar, else the nearest lower bucket's, else ``None``."""
    out: list[PromExemplar | None] = []
    carried: PromExemplar | None = None
    for exemplar in exemplars:
        if exemplar is not None:
            carried = _prometheus_exemplar(exemplar)
        out.append(carried)
    return out


class LeanCollector:
    """A prometheus_client collector rendering one lean registry (register it after the
    OpenTelemetry reader, so families come in the order that reader printed them)."""

    def __init__(self, registry: MetricRegistry, scope_name: str, scope_version: str) -> None:
        self.registry = registry
        self._scope = {
            "otel_scope_name": scope_name,
            "otel_scope_schema_url": "",
            "otel_scope_version": scope_version,
        }

    def collect(self) -> Iterator[Metric]:
        """Every non-empty family as a prometheus_client metric (in multi-worker mode the merge
        of all workers); called on each scrape."""
        for family, points in self.registry.points():
            yield self._family(family, points)

    def _family(self, family: Family, points: list[tuple[SeriesKey, Value]]) -> Metric:
        rows: list[dict[str, str]] = []
        for key, _ in points:
            row = dict(self._scope)
            for attribute, attribute_value in family.attributes(key).items():
                row[label_name(attribute)] = _label_value(attribute_value)
            rows.append(row)
        keys = sorted({k for row in rows for k in row})
        label_rows = [[row.get(k, "") for k in keys] for row in rows]
        name, unit = metric_name(family.name), unit_suffix(family.unit)
        doc = family.description
        metric: CounterMetricFamily | GaugeMetricFamily | HistogramMetricFamily
        if family.kind == "histogram":
            histograms = NativeHistogramFamily(name, doc, labels=keys, unit=unit)
            bounds = [f"{bound}" for bound in family.boundaries] + ["+Inf"]
            for labels, (_, point) in zip(label_rows, points, strict=True):
                assert isinstance(point, HistogramPoint)
                native = None if point.native is None else prometheus_native(point.native)
                histograms.add_metric(labels, _buckets(bounds, point), point.sum, native=native)
            return histograms
        if family.kind == "counter":
            metric = CounterMetricFamily(name, doc, labels=keys, unit=unit)
        else:
            metric = GaugeMetricFamily(name, doc, labels=keys, unit=unit)
        for labels, (_, value) in zip(label_rows, points, strict=True):
            assert not isinstance(value, HistogramPoint)
            metric.add_metric(labels, value)
        return metric


def prometheus_native(point: NativePoint) -> NativeBuckets:
    """A series' native buckets as the protobuf exposition carries them: OpenTelemetry's bucket
    ``k`` (``(base ** k, base ** (k + 1)]``) is Prometheus' index ``k + 1``."""
    positive = {point.offset + j + 1: c for j, c in enumerate(point.counts) if c}
    return NativeBuckets(point.scale, point.zero_threshold, point.zero_count, positive)


def _buckets(
    bounds: list[str], point: HistogramPoint
) -> Sequence[tuple[str, float] | tuple[str, float, PromExemplar]]:
    cumulative = 0.0
    if point.exemplars is None:
        out: list[tuple[str, float] | tuple[str, float, PromExemplar]] = []
        for bound, count in zip(bounds, point.counts, strict=True):
            cumulative += count
            out.append((bound, cumulative))
        return out
    out = []
    exemplars = bucket_exemplars(point.exemplars)
    for bound, count, exemplar in zip(bounds, point.counts, exemplars, strict=True):
        cumulative += count
        out.append((bound, cumulative) if exemplar is None else (bound, cumulative, exemplar))
    return out
