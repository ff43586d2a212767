"""Lean, pre-bound metric instruments for the request hot path.

The OpenTelemetry SDK's synchronous instruments cost ~9 µs per call on our machines; a
request records several measurements, which is more than the whole budget of the
instrumentation. So the hot path records into these plain-Python structures instead — a
``bisect`` and a few integer additions on a series object bound once per attribute set —
and :mod:`plexichat.observability.metrics.registry` converts them into the SDK's own data model
(``Histogram``/``Sum``/``Gauge`` with their data points) when a reader collects. The
Prometheus reader and the OTLP exporter therefore carry them like any SDK instrument.

Series are keyed by a tuple of attribute *values* in the order of the family's
``attribute_names`` (``None`` means "attribute absent"); a family created with
``attribute_names=None`` takes free-form attributes as sorted ``(name, value)`` pairs.
Every family has a series budget (OpenTelemetry's cardinality limit, default 2000): past
it, new attribute sets fold into one overflow series carrying ``otel.metric.overflow=true``
and the registry's overflow callback is told which metric overflowed.

Writers are expected on one thread (the event loop); concurrent writers from several
threads are safe against corruption but may, rarely, lose an increment.

A series keeps its state in ``cells``: a list, or in multi-worker mode a float64 view of the
worker's slot file (:mod:`~plexichat.observability.metrics.slots`), which other workers read.
Series are bound once and held by their recorders, so moving one into a slot (when its
worker claims one, or after a fork) re-points its ``cells`` in place; a counter also changes
class, to :class:`SharedCounterSeries`, whose ``value`` reads and writes its cell. Measured
on our machines: a histogram record costs 85 ns on lists and 128 ns on a slot; ``value += 1``
23 ns as an attribute and 94 ns through the cell.

A histogram whose family has a :class:`~plexichat.observability.metrics.native.NativeSpec`
is a :class:`NativeHistogramSeries`: it also keeps sparse base-2 exponential buckets in a second
cell list, ``native`` (:mod:`~plexichat.observability.metrics.native`), for ~0.1 µs more per
record (``docs/benchmarks.md``).

Histograms keep exemplars when asked (``record_exemplar``, called for sampled requests only):
per bucket the newest ``(value, time_ns, trace_id, span_id)`` that fell in it.
"""

from __future__ import annotations

import math
import time
from bisect import bisect_left
from collections.abc import Callable, MutableSequence, Sequence
from math import ceil, log2
from typing import Literal, Protocol

from plexichat.catalog.validation import OTEL_NAME
from plexichat.observability.metrics import native as nb
from plexichat.observability.metrics.native import NativeSpec

InstrumentKind = Literal["counter", "updowncounter", "gauge", "histogram"]
Merge = Literal["sum", "max", "latest"]
"""How workers' values of a gauge combine in multi-worker mode (up-down counters: ``sum``)."""
AttrKey = tuple[object, ...]
Exemplar = tuple[float, int, int, int]
"""``(value, time_ns, trace_id, span_id)``."""
Cells = MutableSequence[float]
"""A series' state: a list, or a float64 view of a slot file."""


class ExemplarCells(Protocol):
    """Where a histogram series keeps its exemplars: a list, or its slot record."""

    def __setitem__(self, bucket: int, exemplar: Exemplar, /) -> None: ...


OVERFLOW_ATTRIBUTE = "otel.metric.overflow"
LIVE_KINDS = frozenset({"updowncounter", "gauge"})
"""Kinds whose value describes a live process: merged over live workers only."""


def check_instrument_name(name: str) -> str:
    """Return ``name`` or raise ``ValueError`` saying what a valid instrument name is."""
    if not isinstance(name, str) or not OTEL_NAME.match(name) or len(name) > 255:
        raise ValueError(
            f"invalid metric name {name!r}: use lowercase snake_case words separated by dots, "
            "e.g. 'plexichat.messages_sent'"
        )
    return name


class CounterSeries:
    """One attribute set of a counter, up-down counter or gauge."""

    __slots__ = ("cells", "value")

    def __init__(self) -> None:
        self.value: float = 0
        self.cells: Cells | None = None

    def add(self, amount: float = 1) -> None:
        """Add ``amount``; nothing checks its sign (only an up-down counter may go down)."""
        self.value += amount

    def set(self, value: float) -> None:
        """Set the value (gauges)."""
        self.value = value


class SharedCounterSeries(CounterSeries):
    """A counter or up-down counter series whose value is cell 0 of its slot record."""

    __slots__ = ()

    @property
    def value(self) -> float:
        """The value, read from and written to the slot cell."""
        assert self.cells is not None
        return self.cells[0]

    @value.setter
    def value(self, value: float) -> None:
        assert self.cells is not None
        self.cells[0] = value


class UpDownCounterSeries(CounterSeries):
    """One attribute set of an up-down counter: its value is ``cells[0]`` in process memory
    too, so the request path writes ``cells[0]`` directly in either mode (the active-request
    count: two writes per request; through ``value`` they would cost 94 ns each on a slot)."""

    __slots__ = ()
    cells: Cells

    def __init__(self) -> None:
        self.cells = [0.0]

    @property
    def value(self) -> float:
        """The value, kept in ``cells[0]``."""
        return self.cells[0]

    @value.setter
    def value(self, value: float) -> None:
        self.cells[0] = value


class SharedGaugeSeries(CounterSeries):
    """A gauge series in a slot: cell 0 the value, cell 1 when it was set (Unix seconds), which
    ``latest`` merges compare and which tells a set gauge from a never-set one."""

    __slots__ = ()

    @property
    def value(self) -> float:
        """The value; setting it also stamps cell 1 with the time, for ``latest`` merges."""
        assert self.cells is not None
        return self.cells[0]

    @value.setter
    def value(self, value: float) -> None:
        cells = self.cells
        assert cells is not None
        cells[0] = value
        cells[1] = time.time()


def histogram_cells(bounds: Sequence[float]) -> list[float]:
    """A new histogram's state: a count per bucket, then sum, min, max."""
    return [0.0] * (len(bounds) + 1) + [0.0, math.inf, -math.inf]


class HistogramSeries:
    """One attribute set of an explicit-bucket histogram (OpenTelemetry bucket semantics:
    bucket ``i`` counts values in ``(bounds[i-1], bounds[i]]``).

    ``cells`` is ``[count of bucket 0, …, count of the +Inf bucket, sum, min, max]``; ``min``
    and ``max`` are also kept as attributes, so a record compares against plain floats and
    writes the cells only when an extreme changes."""

    __slots__ = ("bounds", "cells", "exemplars", "max", "min")

    def __init__(self, bounds: tuple[float, ...]) -> None:
        self.bounds = bounds
        self.cells: Cells = histogram_cells(bounds)
        self.min = math.inf
        self.max = -math.inf
        self.exemplars: list[Exemplar | None] | ExemplarCells | None = None

    @property
    def counts(self) -> list[int]:
        """Values recorded per bucket, the +Inf bucket last."""
        return [int(c) for c in self.cells[:-3]]

    @property
    def count(self) -> int:
        """Values recorded (the sum of the bucket counts: not kept separately, to keep
        ``record`` short)."""
        return int(sum(self.cells[:-3]))

    @property
    def sum(self) -> float:
        """The sum of the values recorded."""
        return self.cells[-3]

    def record(self, value: float) -> None:
        """Count ``value`` in its bucket and add it to the sum, min and max (85 ns; 128 ns on a
        slot)."""
        cells = self.cells
        cells[bisect_left(self.bounds, value)] += 1
        cells[-3] += value
        if value < self.min:
            self.min = cells[-2] = value
        if value > self.max:
            self.max = cells[-1] = value

    def record_exemplar(self, value: float, trace_id: int, span_id: int) -> None:
        """Keep ``value`` (already recorded) as its bucket's exemplar, with its trace."""
        exemplars = self.exemplars
        if exemplars is None:
            exemplars = self.exemplars = [None] * (len(self.bounds) + 1)
        exemplars[bisect_left(self.bounds, value)] = (value, time.time_ns(), trace_id, span_id)


class NativeHistogramSeries(HistogramSeries):
    """A histogram series that also keeps native buckets: ``native`` holds their window and
    header (:mod:`~plexichat.observability.metrics.native`); ``factor`` (``2 ** scale``) and
    ``first`` (the window's first bucket index, plus one) mirror the header as plain numbers
    for the hot path, re-read by :meth:`sync` whenever the window moves."""

    __slots__ = ("factor", "first", "native", "size", "spec", "zero_threshold")

    def __init__(self, bounds: tuple[float, ...], spec: NativeSpec) -> None:
        super().__init__(bounds)
        self.spec = spec
        self.size = spec.max_buckets
        self.zero_threshold = spec.zero_threshold
        self.native: Cells = nb.new_cells(spec)
        self.sync()

    def sync(self) -> None:
        """Re-read the scale and the window's start from ``native``."""
        native = self.native
        self.factor = 2.0 ** int(native[nb.SCALE])
        self.first = int(native[nb.START]) + 1

    def record(self, value: float) -> None:
        """Count ``value`` in its classic and its native bucket, add it to sum, min and max."""
        cells = self.cells  # HistogramSeries.record, inlined
        cells[bisect_left(self.bounds, value)] += 1
        cells[-3] += value
        if value < self.min:
            self.min = cells[-2] = value
        if value > self.max:
            self.max = cells[-1] = value
        self.record_native(value)

    def record_native(self, value: float) -> None:
        """Count ``value`` in its native bucket only (the telemetry middleware inlines the
        classic part): ``ceil(log2(v) * 2**scale) - 1`` less the window's start."""
        if value <= self.zero_threshold:
            self.native[nb.ZERO] += 1
            return
        try:
            at = ceil(log2(value) * self.factor) - self.first
        except (OverflowError, ValueError):  # inf, nan: never a duration
            return
        if 0 <= at < self.size:
            self.native[at] += 1
        else:
            nb.widen(self.native, at + self.first - 1, self.size)
            self.sync()


Series = CounterSeries | HistogramSeries


class SeriesStore(Protocol):
    """What a family needs of the store behind its series in multi-worker mode (the registry's
    :class:`~plexichat.observability.metrics.sharing.SharedStore`). Declared here, not imported:
    the store is built on top of families and series (it re-points their cells), so they know
    only the two calls they make."""

    def admit(self, family: Family, key: AttrKey, series: Series) -> bool:
        """Whether ``key`` gets its own series in ``family``, decided for the whole instance;
        if so, ``series`` (created just now) is backed by the store."""
        ...

    def try_bind(self, family: Family, key: AttrKey | None, series: Series) -> bool:
        """Back ``series`` by the store (``key`` ``None``: the overflow series); ``False`` when
        the store has no room left, and ``series`` stays in process memory."""
        ...


class Family:
    """All series of one instrument, with its series budget.

    In multi-worker mode ``store`` (a :class:`SeriesStore`) decides a new attribute set's
    admission for the whole instance and backs each new series with slot cells."""

    def __init__(
        self,
        name: str,
        kind: InstrumentKind,
        unit: str,
        description: str,
        attribute_names: Sequence[str] | None,
        *,
        boundaries: Sequence[float] = (),
        limit: int = 2000,
        on_overflow: Callable[[str], None] | None = None,
        merge: Merge | None = None,
        exemplars: bool = False,
        native: NativeSpec | None = None,
    ) -> None:
        check_instrument_name(name)
        if not description:
            raise ValueError(f"metric {name!r} needs a description (Prometheus HELP text)")
        if kind == "histogram":
            if not boundaries or list(boundaries) != sorted(set(boundaries)):
                raise ValueError(
                    f"histogram {name!r}: bucket boundaries must be non-empty and strictly "
                    f"increasing, got {list(boundaries)}"
                )
        elif boundaries:
            raise ValueError(f"{kind} {name!r} takes no bucket boundaries")
        elif exemplars or native is not None:
            what = "exemplars" if exemplars else "native buckets"
            raise ValueError(f"{kind} {name!r}: only histograms keep {what}")
        if limit < 1:
            raise ValueError(f"metric {name!r}: series limit must be at least 1, got {limit}")
        if merge is not None and kind not in LIVE_KINDS:
            raise ValueError(f"{kind} {name!r}: workers' values are summed, no merge to choose")
        if merge is not None and kind == "updowncounter" and merge != "sum":
            raise ValueError(f"up-down counter {name!r}: workers' values are summed")
        self.name = name
        self.kind: InstrumentKind = kind
        self.unit = unit
        self.description = description
        self.attribute_names = None if attribute_names is None else tuple(attribute_names)
        self.boundaries = tuple(float(b) for b in boundaries)
        self.limit = limit
        self.merge: Merge = merge or ("latest" if kind == "gauge" else "sum")
        self.exemplars = exemplars
        self.native = native
        self.store: SeriesStore | None = None
        self._on_overflow = on_overflow
        self._series: dict[AttrKey, Series] = {}
        self._overflow: Series | None = None

    def same_spec(self, other: Family) -> bool:
        """Whether ``other`` describes the same instrument (kind, unit, attributes, buckets,
        native buckets, merge); the description may differ."""
        mine = (self.kind, self.unit, self.attribute_names, self.boundaries, self.native)
        theirs = (other.kind, other.unit, other.attribute_names, other.boundaries, other.native)
        return mine == theirs and self.merge == other.merge

    def _new(self) -> Series:
        if self.kind == "histogram":
            if self.native is not None:
                return NativeHistogramSeries(self.boundaries, self.native)
            return HistogramSeries(self.boundaries)
        return UpDownCounterSeries() if self.kind == "updowncounter" else CounterSeries()

    def series(self, key: AttrKey = ()) -> Series:
        """The series for ``key`` (attribute values in ``attribute_names`` order)."""
        found = self._series.get(key)
        if found is not None:
            return found
        if self.attribute_names is not None and len(key) != len(self.attribute_names):
            raise ValueError(
                f"metric {self.name!r} takes attributes {self.attribute_names}, "
                f"got {len(key)} values"
            )
        return self._create(key)

    def _create(self, key: AttrKey) -> Series:
        created = self._new()
        store = self.store
        if store is None:
            admitted = len(self._series) < self.limit
        else:
            admitted = store.admit(self, key, created)
        if admitted:
            self._series[key] = created
            return created
        if self._on_overflow is not None:
            self._on_overflow(self.name)
        if self._overflow is None:
            overflow = self._new()
            if store is not None:
                store.try_bind(self, None, overflow)  # else it stays this process's own
            self._overflow = overflow
        return self._overflow

    def counter(self, key: AttrKey = ()) -> CounterSeries:
        """``series(key)`` of a counter, up-down counter or gauge family, typed as such."""
        found = self.series(key)
        if not isinstance(found, CounterSeries):
            raise TypeError(f"metric {self.name!r} is a {self.kind}, not a counter or gauge")
        return found

    def updowncounter(self, key: AttrKey = ()) -> UpDownCounterSeries:
        """``series(key)`` of an up-down counter family, typed as such."""
        found = self.series(key)
        if not isinstance(found, UpDownCounterSeries):
            raise TypeError(f"metric {self.name!r} is a {self.kind}, not an up-down counter")
        return found

    def histogram(self, key: AttrKey = ()) -> HistogramSeries:
        """``series(key)`` of a histogram family, typed as such."""
        found = self.series(key)
        if not isinstance(found, HistogramSeries):
            raise TypeError(f"metric {self.name!r} is a {self.kind}, not a histogram")
        return found

    def free_series(self, items: tuple[tuple[str, str | int], ...]) -> Series:
        """The series for free-form attributes: sorted ``(name, value)`` pairs (families
        created with ``attribute_names=None``)."""
        found = self._series.get(items)
        return found if found is not None else self._create(items)

    def all_series(self) -> list[tuple[AttrKey | None, Series]]:
        """Every series with its key; the overflow series under ``None``."""
        out: list[tuple[AttrKey | None, Series]] = list(self._series.items())
        if self._overflow is not None:
            out.append((None, self._overflow))
        return out

    def attributes(self, key: AttrKey | None) -> dict[str, str | int | bool]:
        """The attributes of ``key``, absent ones left out (``None``: the overflow series)."""
        if key is None:
            return {OVERFLOW_ATTRIBUTE: True}
        names = self.attribute_names
        if names is None:
            return dict(key)  # type: ignore[arg-type]
        return {n: v for n, v in zip(names, key, strict=True) if v is not None}  # type: ignore[misc]

    def __len__(self) -> int:
        return len(self._series) + (self._overflow is not None)


def cell_count(family: Family) -> int:
    """Cells of one series: a value (and its set time for gauges), or the histogram state
    (:func:`classic_cells` of them, then the native state if any)."""
    if family.kind == "histogram":
        native = 0 if family.native is None else family.native.cells
        return classic_cells(family) + native
    return 2 if family.kind == "gauge" else 1


def classic_cells(family: Family) -> int:
    """Cells of a histogram series' classic state: its bucket counts, sum, min, max."""
    return len(family.boundaries) + 4
