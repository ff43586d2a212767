"""Merging every worker's slot into one view of the instance (multi-worker mode).

Counters and histograms are summed over *all* slots, the dead workers' included (their
totals stay part of the instance's; a slot's successor continues them), so every counter,
bucket, ``_count`` and ``_sum`` only grows; a histogram's min and max are the extremes over
slots. Up-down counters are summed over *live* slots; gauges are merged over live slots that
set them, as their family declares: ``sum``, ``max``, or ``latest`` (the most recently set).
Native buckets merge by :func:`~plexichat.observability.metrics.native.merge` (at the
coarsest of the slots' scales, lower still if they no longer fit), which gives exactly what one
process recording every worker's values would hold. For each bucket of a histogram the newest
exemplar of any slot wins, so an exemplar shown
for a bucket is never older than the one shown before (Prometheus rejects those).

Record parsing is incremental (a slot's records are parsed once); values are read fresh at
every merge, one ``tolist()`` per series. A merge runs in phases, a function each: the families
(:func:`_known_families`), the records that count (:func:`_counted`), their values combined per
series (:func:`_accumulate`), each family's points (:func:`_points`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from operator import add
from typing import Any

from plexichat.observability.metrics import native as nb
from plexichat.observability.metrics.instruments import (
    LIVE_KINDS,
    Exemplar,
    Family,
    cell_count,
    classic_cells,
)
from plexichat.observability.metrics.native import NativePoint
from plexichat.observability.metrics.points import FamilyPoints, HistogramPoint, Value
from plexichat.observability.metrics.slots import FAMILY, SERIES, Record, SeriesKey, SlotFile

_Gauge = tuple[float, float]  # value, set time
_Slots = list[tuple[SlotFile, bool]]  # every slot, with whether its worker is alive
_Families = Callable[[], Iterable[Family]]  # the registry's families, in its order
_Learn = Callable[[dict[str, Any]], Family]  # the family of another worker's family record


class _Totals:
    """One family's values merged so far, by series key: the sums (counters, up-down counters,
    classic histogram state), each slot's gauge value with its set time, the newest exemplars,
    the native buckets."""

    __slots__ = ("exemplars", "gauges", "natives", "sums")

    def __init__(self) -> None:
        self.sums: dict[SeriesKey, list[float]] = {}
        self.natives: dict[SeriesKey, NativePoint] = {}
        self.gauges: dict[SeriesKey, list[_Gauge]] = {}
        self.exemplars: dict[SeriesKey, list[Exemplar | None]] = {}


def merge_slots(families: _Families, learn: _Learn, slots: _Slots) -> list[FamilyPoints]:
    """The instance's points, family by family: the registry's (``families()``, in its order),
    then those only other workers have recorded into, which ``learn`` adds to the registry."""
    known = _known_families(families, learn, slots)
    totals = _accumulate(known, slots)
    out: list[FamilyPoints] = []
    for name, family in known.items():
        points = _points(family, totals[name])
        if points:
            out.append((family, points))
    return out


def _known_families(families: _Families, learn: _Learn, slots: _Slots) -> dict[str, Family]:
    """Every family by name: ours, then those another worker described in its slot (a worker
    renders the whole instance, also the families it never recorded into)."""
    known = {family.name: family for family in families()}
    for slot, _ in slots:
        for record in slot.records:
            if record.kind == FAMILY and record.payload["name"] not in known:
                known[record.payload["name"]] = learn(record.payload)
    return known


def _counted(families: dict[str, Family], slots: _Slots) -> Iterator[tuple[SlotFile, Record]]:
    """The series records that count: of a known family and with its number of cells (a record
    written by a version with another spec is skipped), from a live slot when the family's
    values describe live processes (up-down counters, gauges)."""
    # name -> (cells a record of it must have, merged over live slots only)
    specs = {
        name: (cell_count(family), family.kind in LIVE_KINDS) for name, family in families.items()
    }
    for slot, alive in slots:
        for record in slot.records:
            if record.kind != SERIES:
                continue
            spec = specs.get(record.payload[0])
            if spec is None or record.cells != spec[0]:
                continue  # written by a version with another spec
            if spec[1] and not alive:
                continue
            yield slot, record


def _accumulate(families: dict[str, Family], slots: _Slots) -> dict[str, _Totals]:
    """Every counted record's values merged into its family's totals: gauges kept per slot
    (they merge as their family declares, in :func:`_points`), the rest summed (a histogram's
    min and max: the extremes), and per bucket the newest exemplar."""
    totals = {name: _Totals() for name in families}
    for slot, record in _counted(families, slots):
        name, key = record.payload
        found = totals[name]
        family = families[name]
        kind = family.kind
        values = slot.values(record)
        if family.native is not None:
            classic = classic_cells(family)
            _add_native(found, key, slot.view(record)[classic:], family)
            values = values[:classic]
        if kind == "gauge":
            if values[1]:  # set at least once
                found.gauges.setdefault(key, []).append((values[0], values[1]))
            continue
        acc = found.sums.get(key)
        if acc is None:
            found.sums[key] = values
        elif kind == "histogram":
            acc[:-2] = map(add, acc[:-2], values[:-2])
            acc[-2] = min(acc[-2], values[-2])
            acc[-1] = max(acc[-1], values[-1])
        else:
            acc[0] += values[0]
        if record.exemplar_buckets:
            theirs = slot.exemplars(record)
            ours = found.exemplars.get(key)
            if ours is None:
                found.exemplars[key] = theirs.copy()
            else:
                _newer(ours, theirs)
    return totals


def _add_native(found: _Totals, key: SeriesKey, cells: Sequence[float], family: Family) -> None:
    """Merge one slot's native state ``cells`` into the totals of series ``key``."""
    spec = family.native
    assert spec is not None
    theirs = nb.point(nb.read(cells), spec)
    ours = found.natives.get(key)
    found.natives[key] = theirs if ours is None else nb.merge(ours, theirs, spec.max_buckets)


def _newer(ours: list[Exemplar | None], theirs: list[Exemplar | None]) -> None:
    """Keep, per bucket, whichever exemplar is newer: ours or theirs."""
    for bucket, exemplar in enumerate(theirs):
        if exemplar is not None:
            mine = ours[bucket]
            if mine is None or exemplar[1] > mine[1]:
                ours[bucket] = exemplar


def _points(family: Family, totals: _Totals) -> list[tuple[SeriesKey, Value]]:
    """A family's points from its totals."""
    points: list[tuple[SeriesKey, Value]]
    if family.kind == "gauge":
        points = [(key, _merge_gauge(family, seen)) for key, seen in totals.gauges.items()]
    elif family.kind == "histogram":
        found, natives = totals.exemplars, totals.natives
        points = [
            (
                key,
                HistogramPoint(
                    cells[:-3], cells[-3], cells[-2], cells[-1], found.get(key), natives.get(key)
                ),
            )
            for key, cells in totals.sums.items()
        ]
    else:
        points = [(key, cells[0]) for key, cells in totals.sums.items()]
    points.sort(key=lambda point: point[0] is None)  # the overflow series last
    return points


def _merge_gauge(family: Family, seen: list[_Gauge]) -> float:
    """One gauge series' value from the slots that set it, as its family declares."""
    if family.merge == "sum":
        return sum(value for value, _ in seen)
    if family.merge == "max":
        return max(value for value, _ in seen)
    return max(seen, key=lambda pair: pair[1])[0]
