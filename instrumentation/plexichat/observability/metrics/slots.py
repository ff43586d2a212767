"""Slot files: one worker's metric values in shared memory, readable by every other worker.

In multi-worker mode each worker process holds one *slot*, a file ``slot-<n>.db`` in the
multiprocess directory (:mod:`~plexichat.observability.metrics.directory` hands them out).
Its series are ``mmap``-ed views of the file, so a write is a store into shared memory (no
system call, no lock) that survives the worker's death, and any worker merges every slot
when it is scraped (:mod:`~plexichat.observability.metrics.merge`).

Format (little-endian, every offset a multiple of 8)::

    header, 64 bytes: magic b"PLXSLOT1" | end u64 | pid u64 | claimed_ns u64 | reserved
    records from offset 64, each:
        kind u32 (1 family, 2 series) | payload bytes u32 | cells u32 | exemplar buckets u32
        payload: UTF-8 JSON, padded with spaces to a multiple of 8 bytes
        cells: float64 values (the series' state, see ``instruments.py``; a histogram with
               native buckets: its classic cells, then a fixed window of max_buckets counts
               with zero count, scale, start and generation, see ``native.py``)
        exemplars: per bucket value f64 | time_ns u64 | trace id high u64, low u64 | span id u64

A record is complete before ``end`` moves past it, so readers parse only whole records; a
value is one aligned float64, which the CPU stores and loads in one piece. Records are only
ever appended: a series keeps its cells for the life of the directory.

The file is created sparse at :data:`RESERVED_BYTES` (address space, not memory) and its
pages are allocated ahead of use with ``posix_fallocate``, so a full tmpfs is an ``OSError``
at series creation, never a ``SIGBUS`` on a write. Ordinary records also keep
:data:`HEADROOM_BYTES` allocated beyond them, which only ``reserve=False`` records (the
overflow series) may use: when nothing else fits, the overflow series still does.
"""

from __future__ import annotations

import json
import mmap
import os
import struct
import threading
from collections.abc import MutableSequence
from dataclasses import dataclass
from typing import Any, cast

from plexichat.config.sizes import KiB, MiB

MAGIC = b"PLXSLOT1"
HEADER_BYTES = 64
RESERVED_BYTES = 64 * MiB
ALLOCATE_BYTES = 64 * KiB
HEADROOM_BYTES = 64 * KiB
FAMILY, SERIES = 1, 2
EXEMPLAR_BYTES = 40

_HEADER = struct.Struct("<8sQQQ")
_RECORD = struct.Struct("<IIII")
_EXEMPLAR = struct.Struct("<dQQQQ")
_pack_exemplar = _EXEMPLAR.pack_into
_LOW = (1 << 64) - 1
_END = 8  # byte offset of ``end`` in the header
_END_CELL = _END // 8

Exemplar = tuple[float, int, int, int]
"""``(value, time_ns, trace_id, span_id)``."""
SeriesKey = tuple[object, ...] | None
"""A series' attribute key as the registry spells it (``None``: the overflow series)."""


def series_key(decoded: Any) -> SeriesKey:
    """A key read back from JSON: lists become tuples again (free-form keys are pairs)."""
    if decoded is None:
        return None
    return tuple(tuple(v) if isinstance(v, list) else v for v in decoded)


@dataclass(frozen=True)
class Record:
    """One parsed record: a family's description or a series' location."""

    kind: int
    payload: Any
    cells_at: int  # byte offset of the first cell
    cells: int
    exemplars_at: int
    exemplar_buckets: int


def _padded(payload: bytes) -> bytes:
    return payload + b" " * (-len(payload) % 8)


class SlotFile:
    """A slot file mapped into this process: readable always, writable when ``writable``."""

    def __init__(self, path: str, fd: int, *, writable: bool = False) -> None:
        """Map the slot file ``path`` open at ``fd`` (which this object then owns)."""
        self.path = path
        self.fd = fd
        try:
            if writable and os.fstat(self.fd).st_size < RESERVED_BYTES:
                os.ftruncate(self.fd, RESERVED_BYTES)
            access = mmap.ACCESS_WRITE if writable else mmap.ACCESS_READ
            self._map = mmap.mmap(self.fd, RESERVED_BYTES, access=access)
        except BaseException:
            os.close(self.fd)
            raise
        self.doubles = memoryview(self._map).cast("d")
        self._words = memoryview(self._map).cast("Q")
        self._allocated = 0
        self._decoded: dict[int, tuple[bytes, list[Exemplar | None]]] = {}
        self._lock = threading.Lock()  # the event loop appends while a scrape thread parses
        self.records: list[Record] = []
        self._parsed = HEADER_BYTES
        if writable:
            self._allocate(HEADER_BYTES)
            if self._map[:8] != MAGIC:
                self._map[: _HEADER.size] = _HEADER.pack(MAGIC, HEADER_BYTES, 0, 0)

    @property
    def end(self) -> int:
        """Offset just past the last complete record (the header's size in a file not yet
        initialised)."""
        return int(self._words[_END_CELL]) if self._map[:8] == MAGIC else HEADER_BYTES

    def header(self) -> tuple[int, int]:
        """``(pid, claimed_ns)`` of the worker that last claimed this slot."""
        _, _, pid, claimed_ns = _HEADER.unpack_from(self._map, 0)
        return pid, claimed_ns

    def set_owner(self, pid: int, claimed_ns: int) -> None:
        """Write the claiming worker's pid and claim time into the header."""
        self._words[2] = pid
        self._words[3] = claimed_ns

    def refresh(self) -> list[Record]:
        """Parse the records published since the last call; return them."""
        with self._lock:
            return self._refresh()

    def _refresh(self) -> list[Record]:
        end, start = self.end, self._parsed
        new: list[Record] = []
        data = self._map
        at = start
        while at < end:
            kind, size, cells, buckets = _RECORD.unpack_from(data, at)
            payload_at = at + _RECORD.size
            padded = size + (-size % 8)
            cells_at = payload_at + padded
            exemplars_at = cells_at + 8 * cells
            payload = json.loads(bytes(data[payload_at : payload_at + size]))
            if kind == SERIES:
                payload = (payload[0], series_key(payload[1]))
            new.append(Record(kind, payload, cells_at, cells, exemplars_at, buckets))
            at = exemplars_at + EXEMPLAR_BYTES * buckets
        self._parsed = at
        self.records.extend(new)
        return new

    def append(
        self,
        kind: int,
        payload: Any,
        cells: int = 0,
        exemplar_buckets: int = 0,
        *,
        reserve: bool = True,
    ) -> Record:
        """Write a record after the last one and publish it (cells and exemplars zeroed);
        ``reserve``: keep the headroom free behind it (``OSError`` when that cannot be)."""
        body = _padded(json.dumps(payload, separators=(",", ":")).encode())
        with self._lock:
            return self._append(kind, body, cells, exemplar_buckets, reserve)

    def _append(
        self, kind: int, body: bytes, cells: int, exemplar_buckets: int, reserve: bool
    ) -> Record:
        at = self.end
        cells_at = at + _RECORD.size + len(body)
        exemplars_at = cells_at + 8 * cells
        stop = exemplars_at + EXEMPLAR_BYTES * exemplar_buckets
        self._allocate(stop + HEADROOM_BYTES if reserve else stop)
        self._map[at:cells_at] = (
            _RECORD.pack(kind, len(body.rstrip(b" ")), cells, exemplar_buckets) + body
        )
        self._map[cells_at:stop] = bytes(stop - cells_at)
        self._words[_END_CELL] = stop  # publish
        self._refresh()
        return self.records[-1]

    def _allocate(self, stop: int) -> None:
        """Make sure the pages up to ``stop`` exist (``OSError`` when the tmpfs is full)."""
        if stop <= self._allocated:
            return
        if stop > RESERVED_BYTES:
            raise OSError(f"{self.path}: slot full ({RESERVED_BYTES // MiB} MiB of records)")
        want = min(RESERVED_BYTES, -(-stop // ALLOCATE_BYTES) * ALLOCATE_BYTES)
        os.posix_fallocate(self.fd, 0, want)
        self._allocated = want

    def values(self, record: Record) -> list[float]:
        """A copy of ``record``'s cells."""
        first = record.cells_at // 8
        return cast(list[float], self.doubles[first : first + record.cells].tolist())

    def view(self, record: Record) -> MutableSequence[float]:
        """The record's cells as a writable float64 view (this process's own slot)."""
        first = record.cells_at // 8
        return cast(MutableSequence[float], self.doubles[first : first + record.cells])

    def exemplars(self, record: Record) -> list[Exemplar | None]:
        """The record's exemplars per bucket (``None`` where a bucket has none; do not modify
        the list). The region is copied until two copies agree, so a read racing a write never
        mixes two exemplars; a region unchanged since the last read is not decoded again."""
        start = record.exemplars_at
        stop = start + EXEMPLAR_BYTES * record.exemplar_buckets
        raw = self._map[start:stop]
        cached = self._decoded.get(start)
        if cached is not None and cached[0] == raw:
            return cached[1]
        while (again := self._map[start:stop]) != raw:
            raw = again
        decoded: list[Exemplar | None] = [
            None if time_ns == 0 else (value, time_ns, high << 64 | low, span_id)
            for value, time_ns, high, low, span_id in _EXEMPLAR.iter_unpack(raw)
        ]
        self._decoded[start] = (raw, decoded)
        return decoded

    def write_exemplar(self, at: int, exemplar: Exemplar) -> None:
        """Store an exemplar at byte ``at`` (field by field: readers retry a torn read)."""
        value, time_ns, trace_id, span_id = exemplar
        _pack_exemplar(self._map, at, value, time_ns, trace_id >> 64, trace_id & _LOW, span_id)

    def zero(self, record: Record) -> None:
        """Reset ``record``'s cells to 0 (a dead worker's live values: its in-flight requests,
        its gauges)."""
        self._map[record.cells_at : record.exemplars_at] = bytes(8 * record.cells)

    @classmethod
    def open(cls, path: str) -> SlotFile:
        """Map another worker's slot for reading."""
        return cls(path, os.open(path, os.O_RDONLY))

    def close(self) -> None:
        """Close the descriptor. Never unlocks: after a fork, the lock taken through an
        inherited descriptor stays with the process that took it. The mapping goes when the
        last view of it does (series may still hold views while they move elsewhere)."""
        os.close(self.fd)
