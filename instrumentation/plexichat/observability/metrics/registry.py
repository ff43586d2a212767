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

:meth:`MetricRegistry.share` puts a registry in multi-worker mode: once it has claimed a slot
(:meth:`MetricRegistry.claim`), its series live in the slot and every collection is the merge
of all workers' slots (:mod:`~plexichat.observability.metrics.sharing`, ``merge``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from typing import Any

from opentelemetry.sdk.metrics import Exemplar as OtelExemplar
from opentelemetry.sdk.metrics.export import (
    AggregationTemporality,
    Buckets,
    ExponentialHistogram,
    ExponentialHistogramDataPoint,
    Gauge,
    Histogram,
    HistogramDataPoint,
    Metric,
    NumberDataPoint,
    Sum,
)

from plexichat.catalog import Catalog, default_catalog
from plexichat.catalog.model import Native as CatalogNative
from plexichat.observability.metrics.directory import MultiprocessDirectory
from plexichat.observability.metrics.instruments import (
    Exemplar,
    Family,
    InstrumentKind,
    Merge,
)
from plexichat.observability.metrics.merge import merge_slots
from plexichat.observability.metrics.native import NativeSpec
from plexichat.observability.metrics.points import (
    FamilyPoints,
    HistogramPoint,
    Value,
    local_points,
)
from plexichat.observability.metrics.sharing import SharedStore
from plexichat.observability.metrics.slots import SeriesKey

OVERFLOW_METRIC = "plexichat.metric.overflow"
_CUMULATIVE = AggregationTemporality.CUMULATIVE


class MetricRegistry:
    """Every metric family of a process, by name, converted to OpenTelemetry's data model when
    a reader collects (see the module docstring).

    Code gets a family with ``instrument(name)``, which takes its definition from the metric
    catalog, then binds a series once per attribute set and records on it in plain Python
    (``family.counter(("hit",)).value += 1``). Families are created under a lock, so any thread
    may ask for one; recording is expected on one thread (the event loop). A family keeps at
    most ``series_limit`` series; further attribute sets fold into one overflow series, counted
    in ``plexichat.metric.overflow``.

    Args:
        series_limit: Every family's default series budget (OpenTelemetry's cardinality limit).
        catalog: Defines the instruments ``instrument()`` creates; default the packaged catalog.

    Example::

        registry = MetricRegistry()
        lookups = registry.instrument("plexichat.cache.lookups")
        lookups.counter(("hit",)).value += 1
        instrument_app(app, settings, registry=registry)
    """

    def __init__(self, series_limit: int = 2000, catalog: Catalog | None = None) -> None:
        self.series_limit = series_limit
        self.catalog = catalog if catalog is not None else default_catalog()
        self._start_time_ns = time.time_ns()
        self._lock = threading.Lock()
        self._families: dict[str, Family] = {}
        self._own_limits: set[str] = set()  # families created with an explicit ``limit``
        self.store: SharedStore | None = None
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
            merge=spec.merge if spec.kind in ("gauge", "updowncounter") else None,
            exemplars=spec.exemplars,
            native=_native(spec.native),
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
        merge: Merge | None = None,
        exemplars: bool = False,
        native: NativeSpec | None = None,
    ) -> Family:
        """Get or create a family from an explicit spec: for names chosen at run time only
        (every instrument of ours comes from the catalog through ``instrument()``). Asking
        again with the same spec returns the same family; a different spec under the same
        name is an error. ``merge`` says how a gauge's values from several workers combine
        (default ``latest``); ``exemplars`` keeps exemplars on a histogram's buckets;
        ``native`` keeps native buckets beside a histogram's classic ones."""
        wanted = Family(
            name,
            kind,
            unit,
            description,
            attribute_names,
            boundaries=boundaries,
            limit=limit or self.series_limit,
            on_overflow=self._count_overflow if track_overflow else None,
            merge=merge,
            exemplars=exemplars,
            native=native,
        )
        with self._lock:
            existing = self._families.get(name)
            if existing is None:
                self._families[name] = wanted
                if limit is not None:
                    self._own_limits.add(name)
                if self.store is not None and self.store.claimed:
                    wanted.store = self.store
                return wanted
        if not existing.same_spec(wanted):
            raise ValueError(
                f"metric {name!r} is already registered as a {existing.kind} with unit "
                f"{existing.unit!r} and attributes {existing.attribute_names}"
            )
        return existing

    def limit_series(self, limit: int) -> None:
        """Make ``limit`` the series budget of every family without a ``limit`` of its own,
        those created so far included: :class:`~plexichat.observability.telemetry.Telemetry`
        applies ``performance.observability.series_limit`` so, because the guide's objects
        record into ``DEFAULT_REGISTRY`` before and between apps. A family already holding more
        series keeps them; its new attribute sets overflow. The budget holds until changed again
        (a later app sets its own)."""
        if limit < 1:
            raise ValueError(f"series limit must be at least 1, got {limit}")
        with self._lock:
            self.series_limit = limit
            for name, family in self._families.items():
                if name not in self._own_limits:
                    family.limit = limit

    def learn(self, payload: dict[str, Any]) -> Family:
        """The family another worker described in its slot (see ``sharing.family_payload``)."""
        return self.family(
            payload["name"],
            payload["kind"],
            payload["unit"],
            payload["description"],
            payload["attributes"],
            boundaries=payload["boundaries"],
            limit=payload["limit"],
            track_overflow=payload["name"] != OVERFLOW_METRIC,
            merge=payload["merge"] if payload["kind"] in ("gauge", "updowncounter") else None,
            exemplars=payload["exemplars"],
            native=None if payload.get("native") is None else NativeSpec(**payload["native"]),
        )

    def families(self) -> list[Family]:
        """Every family created so far (a copy, taken under the lock)."""
        with self._lock:
            return list(self._families.values())

    def _count_overflow(self, metric: str) -> None:
        self._overflow.counter((metric,)).value += 1

    def share(self, directory: MultiprocessDirectory) -> SharedStore:
        """Multi-worker mode: series move into a slot of ``directory`` at :meth:`claim`.
        Sharing one directory again is a no-op; another one is an error."""
        if self.store is not None:
            if self.store.directory.path != directory.path:
                raise ValueError(
                    f"this registry already shares {self.store.directory.path}, "
                    f"not {directory.path}"
                )
            return self.store
        self.store = SharedStore(self.families, directory)
        return self.store

    def unshare(self) -> None:
        """Leave multi-worker mode: give the slot up, keep recording in process memory."""
        if self.store is not None:
            self.store.release()
            self.store = None

    def claim(self) -> None:
        """Claim this worker's slot now (multi-worker mode; otherwise nothing)."""
        if self.store is not None:
            self.store.claim()

    @property
    def start_time_ns(self) -> int:
        """Start of the cumulative streams: the instance's start in multi-worker mode."""
        store = self.store
        if store is not None and store.claimed:
            return store.directory.created_ns
        return self._start_time_ns

    @start_time_ns.setter
    def start_time_ns(self, value: int) -> None:
        self._start_time_ns = value

    def points(self) -> list[FamilyPoints]:
        """Every non-empty family with its points: this process's series, or in multi-worker
        mode the merge of every worker's slot (this process's series count from its claim on:
        a collection does not claim, so a process that serves nothing holds no slot)."""
        if self.store is not None:
            return merge_slots(self.families, self.learn, self.store.directory.slots())
        out = []
        for family in self.families():
            points = local_points(family)
            if points:
                out.append((family, points))
        return out

    def collect(self, *, exponential: bool = False) -> list[Metric]:
        """Convert every non-empty family to OTel ``Metric`` objects; ``exponential``: the
        histograms that keep native buckets as ``ExponentialHistogram`` (OTLP's
        ``base2_exponential_bucket_histogram``), the others as explicit-bucket ``Histogram``."""
        now = time.time_ns()
        start = self.start_time_ns
        return [
            _to_metric(family, points, start, now, exponential) for family, points in self.points()
        ]


def _native(native: CatalogNative | None) -> NativeSpec | None:
    return None if native is None else NativeSpec(**native.model_dump(by_alias=True))


def _otel_exemplars(exemplars: list[Exemplar | None] | None) -> list[OtelExemplar]:
    return [
        OtelExemplar({}, value, time_ns, span_id, trace_id)
        for value, time_ns, trace_id, span_id in filter(None, exemplars or ())
    ]


def _exponential(
    family: Family, points: list[tuple[SeriesKey, Value]], start: int, now: int
) -> ExponentialHistogram:
    """A native family's points as OTel's exponential histogram (positive buckets only; the
    SDK's data model has no zero threshold, so OTLP carries 0)."""
    data_points = []
    for key, point in points:
        assert isinstance(point, HistogramPoint)
        assert point.native is not None
        native = point.native
        count = native.count
        data_points.append(
            ExponentialHistogramDataPoint(
                attributes=family.attributes(key),
                start_time_unix_nano=start,
                time_unix_nano=now,
                count=count,
                sum=point.sum,
                scale=native.scale,
                zero_count=native.zero_count,
                positive=Buckets(offset=native.offset, bucket_counts=native.counts),
                negative=Buckets(offset=0, bucket_counts=()),
                flags=0,
                min=point.min if count else 0.0,
                max=point.max if count else 0.0,
                exemplars=_otel_exemplars(point.exemplars),
            )
        )
    return ExponentialHistogram(data_points=data_points, aggregation_temporality=_CUMULATIVE)


def _to_metric(
    family: Family,
    points: list[tuple[SeriesKey, Value]],
    start: int,
    now: int,
    exponential: bool = False,
) -> Metric:
    data: Histogram | ExponentialHistogram | Sum | Gauge
    if exponential and family.native is not None:
        data = _exponential(family, points, start, now)
    elif family.kind == "histogram":
        hist_points = []
        for key, point in points:
            assert isinstance(point, HistogramPoint)
            counts = tuple(int(c) for c in point.counts)
            count = sum(counts)
            hist_points.append(
                HistogramDataPoint(
                    attributes=family.attributes(key),
                    start_time_unix_nano=start,
                    time_unix_nano=now,
                    count=count,
                    sum=point.sum,
                    bucket_counts=counts,
                    explicit_bounds=family.boundaries,
                    min=point.min if count else 0.0,
                    max=point.max if count else 0.0,
                    exemplars=_otel_exemplars(point.exemplars),
                )
            )
        data = Histogram(data_points=hist_points, aggregation_temporality=_CUMULATIVE)
    else:
        number_points = [
            NumberDataPoint(
                attributes=family.attributes(key),
                start_time_unix_nano=start,
                time_unix_nano=now,
                value=value,
            )
            for key, value in points
            if not isinstance(value, HistogramPoint)
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
