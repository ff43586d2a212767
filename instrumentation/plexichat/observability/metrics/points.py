"""What a collection reads out of a registry: per family, its series' keys and values.

The same points feed both outputs, the OpenTelemetry data model (OTLP, in
:mod:`~plexichat.observability.metrics.registry`) and Prometheus exposition
(:mod:`~plexichat.observability.metrics.exposition`), whether they come from this process's
series or are merged from every worker's slot (:mod:`~plexichat.observability.metrics.merge`).
"""

from __future__ import annotations

from dataclasses import dataclass

from plexichat.observability.metrics import native as nb
from plexichat.observability.metrics.instruments import (
    Exemplar,
    Family,
    HistogramSeries,
    NativeHistogramSeries,
)
from plexichat.observability.metrics.native import NativePoint
from plexichat.observability.metrics.slots import SeriesKey


@dataclass(frozen=True, slots=True)
class HistogramPoint:
    """A histogram series' state: counts per bucket (the last is +Inf), sum, min, max, the
    newest exemplar per bucket (``None`` when there are none at all), and the native buckets
    when its family keeps them (``None`` otherwise). The classic buckets are what the
    Prometheus text exposition and a default OTLP export show; the native ones reach OTLP
    when configured and :func:`~plexichat.observability.metrics.native.prometheus_buckets`
    encodes them for Prometheus' protobuf format."""

    counts: list[float]
    sum: float
    min: float
    max: float
    exemplars: list[Exemplar | None] | None
    native: NativePoint | None = None

    @property
    def count(self) -> int:
        """Values recorded: the sum of the bucket counts."""
        return int(sum(self.counts))


Value = float | HistogramPoint
FamilyPoints = tuple[Family, list[tuple[SeriesKey, Value]]]


def local_points(family: Family) -> list[tuple[SeriesKey, Value]]:
    """The points of this process's own series of ``family``."""
    points: list[tuple[SeriesKey, Value]] = []
    for key, series in family.all_series():
        if isinstance(series, HistogramSeries):
            cells = list(series.cells)
            found = series.exemplars
            exemplars = found.copy() if isinstance(found, list) else None
            native = None
            if isinstance(series, NativeHistogramSeries):
                native = nb.point(nb.read(series.native), series.spec)
            point = HistogramPoint(cells[:-3], cells[-3], series.min, series.max, exemplars, native)
            points.append((key, point))
        else:
            points.append((key, series.value))
    return points
