"""A registry of lean instrument families, converted to OpenTelemetry's data model on
collection.

Every instrument we emit is defined once, in the metric catalog; code obtains its family with
one call, ``registry.instrument("plexichat.cache.lookups")``, which takes name, kind, unit,
description, attributes and bucket boundaries from the catalog entry. ``registry.family(...)``
creates a family from an explicit spec: only for names users choose at run time (the
performance logger's ``increment_counter("anything")``).

``DEFAULT_REGISTRY`` is the process-wide registry that the guide's argument-less APIs
(``get_performance_logger()``, ``CacheManager()``) record into, like prometheus_client's
``REGISTRY``; a :class:`~plexichat.observability.telemetry.Telemetry` exports one registry,
and tests build a fresh one.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

from opentelemetry.sdk.metrics.export import (
    AggregationTemporality,
    Gauge,
    Histogram,
    HistogramDataPoint,
    Metric,
    NumberDataPoint,
    Sum,
)

from plexichat.catalog import Catalog, default_catalog
from plexichat.observability.metrics.instruments import (
    CounterSeries,
    Family,
    HistogramSeries,
    InstrumentKind,
)

OVERFLOW_METRIC = "plexichat.metric.overflow"
_CUMULATIVE = AggregationTemporality.CUMULATIVE


class MetricRegistry:
    """Lean instrument families by name.

    ``series_limit`` is every family's default series budget; ``catalog`` defines the
    instruments ``instrument()`` creates (the packaged catalog by default).
    """

    def __init__(self, series_limit: int = 2000, catalog: Catalog | None = None) -> None:
        self.series_limit = series_limit
        self.catalog = catalog if catalog is not None else default_catalog()
        self.start_time_ns = time.time_ns()
        self._lock = threading.Lock()
        self._families: dict[str, Family] = {}
        self._overflow = self.instrument(OVERFLOW_METRIC, limit=10_000, track_overflow=False)

    def instrument(
        self,
        name: str,
        *,
        limit: int | None = None,
        extra_boundaries: Sequence[float] = (),
        track_overflow: bool = True,
    ) -> Family:
        """The family of the catalog's instrument ``name``, created on first use.

        A histogram's boundaries are the catalog's buckets plus every threshold that reads it
        (``Catalog.bucket_boundaries``) plus ``extra_boundaries``. ``limit`` overrides the
        series budget. A name the catalog does not define is a ``KeyError`` saying where to
        define it.
        """
        spec = self.catalog.instrument(name)
        boundaries: Sequence[float] = ()
        if spec.kind == "histogram":
            boundaries = self.catalog.bucket_boundaries(name, extra_boundaries)
        elif extra_boundaries:
            raise ValueError(f"{spec.kind} {name!r} takes no bucket boundaries")
        return self.family(
            spec.name,
            spec.kind,
            spec.unit,
            spec.description,
            spec.attributes,
            boundaries=boundaries,
            limit=limit,
            track_overflow=track_overflow,
        )

    def family(
        self,
        name: str,
        kind: InstrumentKind,
        unit: str,
        description: str,
        attribute_names: Sequence[str] | None = (),
        *,
        boundaries: Sequence[float] = (),
        limit: int | None = None,
        track_overflow: bool = True,
    ) -> Family:
        """Get or create a family from an explicit spec: for names chosen at run time only
        (every instrument of ours comes from the catalog through ``instrument()``). Asking
        again with the same spec returns the same family; a different spec under the same
        name is an error."""
        wanted = Family(
            name,
            kind,
            unit,
            description,
            attribute_names,
            boundaries=boundaries,
            limit=limit or self.series_limit,
            on_overflow=self._count_overflow if track_overflow else None,
        )
        with self._lock:
            existing = self._families.get(name)
            if existing is None:
                self._families[name] = wanted
                return wanted
        if not existing.same_spec(wanted):
            raise ValueError(
                f"metric {name!r} is already registered as a {existing.kind} with unit "
                f"{existing.unit!r} and attributes {existing.attribute_names}"
            )
        return existing

    def _count_overflow(self, metric: str) -> None:
        self._overflow.counter((metric,)).value += 1

    def collect(self) -> list[Metric]:
        """Convert every non-empty family to OTel ``Metric`` objects."""
        now = time.time_ns()
        start = self.start_time_ns
        with self._lock:
            families = list(self._families.values())
        metrics: list[Metric] = []
        for family in families:
            points = family.points()
            if points:
                metrics.append(_to_metric(family, points, start, now))
        return metrics


def _to_metric(
    family: Family,
    points: list[tuple[dict[str, str | int | bool], CounterSeries | HistogramSeries]],
    start: int,
    now: int,
) -> Metric:
    data: Histogram | Sum | Gauge
    if family.kind == "histogram":
        hist_points = []
        for attrs, series in points:
            assert isinstance(series, HistogramSeries)
            counts = tuple(series.counts)
            count = sum(counts)
            hist_points.append(
                HistogramDataPoint(
                    attributes=attrs,
                    start_time_unix_nano=start,
                    time_unix_nano=now,
                    count=count,
                    sum=series.sum,
                    bucket_counts=counts,
                    explicit_bounds=family.boundaries,
                    min=series.min if count else 0.0,
                    max=series.max if count else 0.0,
                )
            )
        data = Histogram(data_points=hist_points, aggregation_temporality=_CUMULATIVE)
    else:
        number_points = [
            NumberDataPoint(
                attributes=attrs, start_time_unix_nano=start, time_unix_nano=now, value=series.value
            )
            for attrs, series in points
            if isinstance(series, CounterSeries)
        ]
        if family.kind == "gauge":
            data = Gauge(data_points=number_points)
        else:
            data = Sum(
                data_points=number_points,
                aggregation_temporality=_CUMULATIVE,
                is_monotonic=family.kind == "counter",
            )
    return Metric(name=family.name, description=family.description, unit=family.unit, data=data)


DEFAULT_REGISTRY = MetricRegistry()
