"""Merging every worker's slot into one view of the instance (multi-worker mode).

Counters and histograms are summed over *all* slots, the dead workers' included (their
totals stay part of the instance's; a slot's successor continues them), so every counter,
bucket, ``_count`` and ``_sum`` only grows; a histogram's min and max are the extremes over
slots. Up-down counters are summed over *live* slots; gauges are merged over live slots that
set them, as their family declares: ``sum``, ``max``, or ``latest`` (the most recently set).
For each bucket of a histogram the newest exemplar of any slot wins, so an exemplar shown
for a bucket is never older than the one shown before (Prometheus rejects those).

Record parsing is incremental (a slot's records are parsed once); values are read fresh at
every merge, one ``tolist()`` per series.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from operator import add
from typing import Any

from plexichat.observability.metrics.instruments import LIVE_KINDS, Exemplar, Family, cell_count
from plexichat.observability.metrics.points import FamilyPoints, HistogramPoint, Value
from plexichat.observability.metrics.slots import FAMILY, SERIES, SeriesKey, SlotFile

_Gauge = tuple[float, float]  # value, set time
_Slots = list[tuple[SlotFile, bool]]  # every slot, with whether its worker is alive
_Families = Callable[[], Iterable[Family]]  # the registry's families, in its order
_Learn = Callable[[dict[str, Any]], Family]  # the family of another worker's family record


def _newer(ours: list[Exemplar | None], theirs: list[Exemplar | None]) -> None:
    for bucket, exemplar in enumerate(theirs):
        if exemplar is not None:
            mine = ours[bucket]
            if mine is None or exemplar[1] > mine[1]:
                ours[bucket] = exemplar


def merge_slots(families: _Families, learn: _Learn, slots: _Slots) -> list[FamilyPoints]:
    """The instance's points, family by family: the registry's (``families()``, in its order),
    then those only other workers have recorded into, which ``learn`` adds to the registry."""
    known = {family.name: family for family in families()}
    for slot, _ in slots:  # families only other workers have recorded into
        for record in slot.records:
            if record.kind == FAMILY and record.payload["name"] not in known:
                known[record.payload["name"]] = learn(record.payload)
    # name -> (kind, cells a record of it must have, merged over live slots only)
    specs = {
        name: (family.kind, cell_count(family), family.kind in LIVE_KINDS)
        for name, family in known.items()
    }
    sums: dict[str, dict[SeriesKey, list[float]]] = {name: {} for name in known}
    gauges: dict[str, dict[SeriesKey, list[_Gauge]]] = {name: {} for name in known}
    exemplars: dict[str, dict[SeriesKey, list[Exemplar | None]]] = {name: {} for name in known}
    for slot, alive in slots:
        for record in slot.records:
            if record.kind != SERIES:
                continue
            name, key = record.payload
            spec = specs.get(name)
            if spec is None or record.cells != spec[1]:
                continue  # written by a version with another spec
            kind, _, live_only = spec
            if live_only and not alive:
                continue
            values = slot.values(record)
            if kind == "gauge":
                if values[1]:  # set at least once
                    gauges[name].setdefault(key, []).append((values[0], values[1]))
                continue
            by_key = sums[name]
            acc = by_key.get(key)
            if acc is None:
                by_key[key] = values
            elif kind == "histogram":
                acc[:-2] = map(add, acc[:-2], values[:-2])
                acc[-2] = min(acc[-2], values[-2])
                acc[-1] = max(acc[-1], values[-1])
            else:
                acc[0] += values[0]
            if record.exemplar_buckets:
                theirs = slot.exemplars(record)
                ours = exemplars[name].get(key)
                if ours is None:
                    exemplars[name][key] = theirs.copy()
                else:
                    _newer(ours, theirs)
    out: list[FamilyPoints] = []
    for name, family in known.items():
        points: list[tuple[SeriesKey, Value]]
        if family.kind == "gauge":
            points = [(key, _merge_gauge(family, seen)) for key, seen in gauges[name].items()]
        elif family.kind == "histogram":
            found = exemplars[name]
            points = [
                (key, HistogramPoint(cells[:-3], cells[-3], cells[-2], cells[-1], found.get(key)))
                for key, cells in sums[name].items()
            ]
        else:
            points = [(key, cells[0]) for key, cells in sums[name].items()]
        if points:
            points.sort(key=lambda point: point[0] is None)  # the overflow series last
            out.append((family, points))
    return out


def _merge_gauge(family: Family, seen: list[_Gauge]) -> float:
    if family.merge == "sum":
        return sum(value for value, _ in seen)
    if family.merge == "max":
        return max(value for value, _ in seen)
    return max(seen, key=lambda pair: pair[1])[0]
