"""Multi-worker mode of a registry: its series backed by the worker's slot.

:meth:`SharedStore.claim` (run when the worker starts serving: ASGI lifespan startup, else its
first request or scrape; never by a collection alone, so a process that only forks the
workers, like gunicorn's arbiter under ``--preload``, holds no slot) claims a slot of the
multiprocess directory and moves every series the registry already has into it: counters and
histograms *continue* the slot's values (a recycled or killed worker's successor picks up its
totals, so sums never drop), while up-down counters and gauges start from this process's own
values (they describe live processes; the dead one's are void).

From then on a new attribute set is *admitted* once for the whole instance: under the
directory's lock, a key that some slot already holds is admitted; otherwise it is admitted
while its family has fewer keys than its budget across all slots. A key therefore never
flips between its own series and the overflow series from one scrape, or one worker, to the
next.

After a ``fork()`` the child drops the parent's slot (without unlocking it: the lock is the
parent's) and every series restarts from zero in process memory (their values are the
parent's, counted in its slot); the child claims a slot of its own when it starts serving.
"""

from __future__ import annotations

import logging
import math
import os
import time
import weakref
from collections.abc import Callable, Iterable, MutableSequence
from dataclasses import asdict

from plexichat.observability.metrics import native as nb
from plexichat.observability.metrics.directory import MultiprocessDirectory
from plexichat.observability.metrics.instruments import (
    LIVE_KINDS,
    AttrKey,
    CounterSeries,
    Exemplar,
    Family,
    HistogramSeries,
    NativeHistogramSeries,
    Series,
    SharedCounterSeries,
    SharedGaugeSeries,
    UpDownCounterSeries,
    cell_count,
    classic_cells,
    histogram_cells,
)
from plexichat.observability.metrics.slots import (
    EXEMPLAR_BYTES,
    FAMILY,
    SERIES,
    Record,
    SeriesKey,
    SlotFile,
)

log = logging.getLogger("plexichat.observability")


def family_payload(family: Family) -> dict[str, object]:
    """What other workers need to render a family they never recorded into."""
    return {
        "name": family.name,
        "kind": family.kind,
        "unit": family.unit,
        "description": family.description,
        "attributes": None if family.attribute_names is None else list(family.attribute_names),
        "boundaries": list(family.boundaries),
        "limit": family.limit,
        "merge": family.merge,
        "exemplars": family.exemplars,
        "native": None if family.native is None else asdict(family.native),
    }


class SlotExemplars:
    """A histogram series' exemplars in its slot record (``series.exemplars`` when shared)."""

    __slots__ = ("_at", "_slot")

    def __init__(self, slot: SlotFile, record: Record) -> None:
        self._slot = slot
        self._at = record.exemplars_at

    def __setitem__(self, bucket: int, exemplar: Exemplar) -> None:
        self._slot.write_exemplar(self._at + EXEMPLAR_BYTES * bucket, exemplar)


def _to_local(series: Series, *, keep: bool) -> None:
    """Move ``series`` back into process memory, with its values (``keep``) or from zero
    (after a fork: its values were the parent's)."""
    if isinstance(series, HistogramSeries):
        if keep:
            series.cells = list(series.cells)
        else:
            series.cells = histogram_cells(series.bounds)
            series.min, series.max = math.inf, -math.inf
        series.exemplars = None
        if isinstance(series, NativeHistogramSeries):
            series.native = list(series.native) if keep else nb.new_cells(series.spec)
            series.sync()
    elif isinstance(series, UpDownCounterSeries):
        series.cells = [series.cells[0] if keep else 0.0]
    else:
        value = series.value if keep else 0
        series.__class__ = CounterSeries
        series.cells = None
        series.value = value


def _bind_native(series: NativeHistogramSeries, view: MutableSequence[float]) -> None:
    """Back ``series``' native buckets with ``view``, adding what it holds to the slot's."""
    spec = series.spec
    slot_point = nb.point(view, spec)
    merged = nb.merge(slot_point, nb.point(series.native, spec), spec.max_buckets)
    nb.write(view, merged, spec.max_buckets)
    series.native = view
    series.sync()


class SharedStore:
    """The slot-backed storage of one registry in one worker.

    Args:
        families: Returns the registry's families; called at every claim and release, as
            families are created all along.
        directory: The multiprocess directory whose slot this worker claims.
    """

    def __init__(
        self, families: Callable[[], Iterable[Family]], directory: MultiprocessDirectory
    ) -> None:
        self._families = families
        self.directory = directory
        self.slot: SlotFile | None = None
        self._records: dict[tuple[str, SeriesKey], Record] = {}
        self._families_written: set[str] = set()
        self._admitted: dict[str, set[SeriesKey]] = {}
        self._folded: dict[str, int] = {}  # slot path -> records already in _admitted
        self._pid = os.getpid()
        ref = weakref.WeakMethod(self._after_fork)
        os.register_at_fork(after_in_child=lambda: (method := ref()) and method())

    @property
    def claimed(self) -> bool:
        """Whether this worker holds a slot (its series live there)."""
        return self.slot is not None

    def claim(self) -> None:
        """Claim a slot and move the registry's series into it (idempotent)."""
        if self.slot is not None:
            return
        slot = self.directory.claim()
        kinds: dict[str, str] = {}
        for record in slot.refresh():
            if record.kind == FAMILY:
                kinds[record.payload["name"]] = record.payload["kind"]
                self._families_written.add(record.payload["name"])
            elif record.kind == SERIES:
                self._records[record.payload] = record
                if kinds.get(record.payload[0]) in LIVE_KINDS:
                    slot.zero(record)  # the dead process's in-flight requests, its gauges
        self.slot = slot
        for family in self._families():
            family.store = self
            for key, series in family.all_series():
                self.bind(family, key, series, fresh=False)

    def admit(self, family: Family, key: AttrKey, series: Series) -> bool:
        """Whether ``key`` gets its own series in ``family``; if so, bind ``series`` to it.
        A slot that cannot grow (its tmpfs is full) admits nothing more: the measurement goes
        to the overflow series and the error is logged, the request never fails."""
        admitted = self._admitted.get(family.name)
        if (family.name, key) in self._records or (admitted is not None and key in admitted):
            return self.try_bind(family, key, series)
        with self.directory.locked():
            self._fold(self.directory.refresh())
            admitted = self._admitted.setdefault(family.name, set())
            if key not in admitted and len(admitted) >= family.limit:
                return False
            if not self.try_bind(family, key, series):
                return False
            admitted.add(key)
        return True

    def try_bind(self, family: Family, key: SeriesKey, series: Series) -> bool:
        """``bind``; ``False`` (logged) when the slot cannot take another record."""
        try:
            self.bind(family, key, series)
        except OSError as exc:
            log.error(
                "metric %s: no room for another series in %s (%s); size the tmpfs of "
                "performance.observability.multiprocess_dir for more",
                family.name,
                self.directory.path,
                exc,
            )
            return False
        return True

    def _fold(self, slots: list[SlotFile]) -> None:
        """Add the keys of records published since the last fold to the admitted sets."""
        for slot in slots:
            done = self._folded.get(slot.path, 0)
            for record in slot.records[done:]:
                if record.kind == SERIES and record.payload[1] is not None:
                    name, key = record.payload
                    self._admitted.setdefault(name, set()).add(key)
            self._folded[slot.path] = len(slot.records)

    def bind(self, family: Family, key: SeriesKey, series: Series, *, fresh: bool = True) -> None:
        """Back ``series`` with its record in this worker's slot, adding what it holds
        (``fresh``: created just now, so a gauge is not yet set)."""
        slot = self.slot
        assert slot is not None
        cells = cell_count(family)
        record = self._records.get((family.name, key))
        if record is None or record.cells != cells:  # new, or written by another version
            if family.name not in self._families_written:
                slot.append(FAMILY, family_payload(family), reserve=key is not None)
                self._families_written.add(family.name)
            buckets = len(family.boundaries) + 1 if family.exemplars else 0
            # the overflow series may use the headroom: it must fit when nothing else does
            record = slot.append(
                SERIES, [family.name, key], cells, buckets, reserve=key is not None
            )
            if family.kind == "histogram":
                view = slot.view(record)
                classic = classic_cells(family)
                view[classic - 2], view[classic - 1] = math.inf, -math.inf
                if family.native is not None:
                    view[classic + family.native.cells + nb.SCALE] = family.native.schema
            self._records[(family.name, key)] = record
        view = slot.view(record)
        if isinstance(series, HistogramSeries):
            if isinstance(series, NativeHistogramSeries):
                _bind_native(series, view[classic_cells(family) :])
                view = view[: classic_cells(family)]
            local = series.cells
            for i in range(len(local) - 2):  # bucket counts and sum
                view[i] += local[i]
            view[-2] = series.min = min(view[-2], series.min)
            view[-1] = series.max = max(view[-1], series.max)
            series.cells = view
            if record.exemplar_buckets:
                shared = SlotExemplars(slot, record)
                if isinstance(series.exemplars, list):
                    for bucket, exemplar in enumerate(series.exemplars):
                        if exemplar is not None:
                            shared[bucket] = exemplar
                series.exemplars = shared
        elif isinstance(series, UpDownCounterSeries):
            view[0] += series.cells[0]
            series.cells = view
        elif family.kind == "gauge":
            value = series.value
            series.__class__ = SharedGaugeSeries
            series.cells = view
            if not fresh:  # a gauge this process set before it claimed the slot
                view[0], view[1] = value, time.time()
        else:
            value = series.value
            series.__class__ = SharedCounterSeries
            series.cells = view
            view[0] += value

    def live_pids(self) -> list[int]:
        """The pids of the live workers: those holding a slot (this process once it has
        claimed its own; a process that serves nothing, such as gunicorn's arbiter under
        ``--preload``, never claims one and is no worker)."""
        return [slot.header()[0] for slot, alive in self.directory.slots() if alive]

    def release(self) -> None:
        """Give the slot up (its values stay for the next worker to continue); the series
        go back to process memory with their values."""
        self._unbind(keep=True)
        self.directory.close()

    def _unbind(self, *, keep: bool) -> None:
        for family in self._families():
            family.store = None
            for _, series in family.all_series():
                _to_local(series, keep=keep)
        self.slot = None
        self._records.clear()
        self._families_written.clear()
        self._admitted.clear()
        self._folded.clear()

    def _after_fork(self) -> None:
        if os.getpid() == self._pid:
            return
        self._pid = os.getpid()
        self._unbind(keep=False)
        self.directory.forget()
