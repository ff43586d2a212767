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
"""

from __future__ import annotations

import math
import re
from bisect import bisect_left
from collections.abc import Callable, Sequence
from typing import Literal

InstrumentKind = Literal["counter", "updowncounter", "gauge", "histogram"]
AttrKey = tuple[object, ...]

OVERFLOW_ATTRIBUTE = "otel.metric.overflow"
_NAME = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$")


def check_instrument_name(name: str) -> str:
    """Return ``name`` or raise ``ValueError`` saying what a valid instrument name is."""
    if not isinstance(name, str) or not _NAME.match(name) or len(name) > 255:
        raise ValueError(
            f"invalid metric name {name!r}: use lowercase snake_case words separated by dots, "
            "e.g. 'plexichat.messages_sent'"
        )
    return name


class CounterSeries:
    """One attribute set of a counter, up-down counter or gauge."""

    __slots__ = ("value",)

    def __init__(self) -> None:
        self.value: float = 0

    def add(self, amount: float = 1) -> None:
        self.value += amount

    def set(self, value: float) -> None:
        self.value = value


class HistogramSeries:
    """One attribute set of an explicit-bucket histogram (OpenTelemetry bucket semantics:
    bucket ``i`` counts values in ``(bounds[i-1], bounds[i]]``)."""

    __slots__ = ("bounds", "counts", "max", "min", "sum")

    def __init__(self, bounds: tuple[float, ...]) -> None:
        self.bounds = bounds
        self.counts = [0] * (len(bounds) + 1)
        self.sum = 0.0
        self.min = math.inf
        self.max = -math.inf

    @property
    def count(self) -> int:
        """Values recorded (the sum of the bucket counts: not kept separately, to keep
        ``record`` short)."""
        return sum(self.counts)

    def record(self, value: float) -> None:
        self.counts[bisect_left(self.bounds, value)] += 1
        self.sum += value
        if value < self.min:
            self.min = value
        if value > self.max:
            self.max = value


Series = CounterSeries | HistogramSeries


class Family:
    """All series of one instrument, with its series budget."""

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
        if limit < 1:
            raise ValueError(f"metric {name!r}: series limit must be at least 1, got {limit}")
        self.name = name
        self.kind: InstrumentKind = kind
        self.unit = unit
        self.description = description
        self.attribute_names = None if attribute_names is None else tuple(attribute_names)
        self.boundaries = tuple(float(b) for b in boundaries)
        self.limit = limit
        self._on_overflow = on_overflow
        self._series: dict[AttrKey, Series] = {}
        self._overflow: Series | None = None

    def same_spec(self, other: Family) -> bool:
        return (self.kind, self.unit, self.attribute_names, self.boundaries) == (
            other.kind,
            other.unit,
            other.attribute_names,
            other.boundaries,
        )

    def _new(self) -> Series:
        return HistogramSeries(self.boundaries) if self.kind == "histogram" else CounterSeries()

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
        if len(self._series) >= self.limit:
            if self._on_overflow is not None:
                self._on_overflow(self.name)
            if self._overflow is None:
                self._overflow = self._new()
            return self._overflow
        created = self._new()
        self._series[key] = created
        return created

    def counter(self, key: AttrKey = ()) -> CounterSeries:
        """``series(key)`` of a counter, up-down counter or gauge family, typed as such."""
        found = self.series(key)
        if not isinstance(found, CounterSeries):
            raise TypeError(f"metric {self.name!r} is a {self.kind}, not a counter or gauge")
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
        if found is not None:
            return found
        if len(self._series) >= self.limit:
            return self.series(items)  # folds into the overflow series
        created = self._new()
        self._series[items] = created
        return created

    def points(self) -> list[tuple[dict[str, str | int | bool], Series]]:
        """A snapshot of (attributes, series) pairs, absent attributes left out."""
        names = self.attribute_names
        out: list[tuple[dict[str, str | int | bool], Series]] = []
        for key, series in list(self._series.items()):
            attrs: dict[str, str | int | bool]
            if names is None:
                attrs = dict(key)  # type: ignore[arg-type]
            else:
                attrs = {
                    n: v  # type: ignore[misc]
                    for n, v in zip(names, key, strict=True)
                    if v is not None
                }
            out.append((attrs, series))
        if self._overflow is not None:
            out.append(({OVERFLOW_ATTRIBUTE: True}, self._overflow))
        return out

    def __len__(self) -> int:
        return len(self._series) + (self._overflow is not None)
