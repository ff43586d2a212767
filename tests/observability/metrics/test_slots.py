"""The slot file format: records published whole, parsed once, exemplars never torn."""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path

from plexichat.observability.metrics.slots import FAMILY, SERIES, SlotFile


def writable(path: Path) -> SlotFile:
    return SlotFile(str(path), os.open(path, os.O_RDWR | os.O_CREAT, 0o600), writable=True)


def test_records_read_back_by_another_mapping(tmp_path: Path) -> None:
    slot = writable(tmp_path / "slot-0.db")
    slot.append(FAMILY, {"name": "t.x"})
    record = slot.append(SERIES, ["t.x", ["GET", None, 200]], 3, 2)
    view = slot.view(record)
    view[0], view[2] = 1.5, 7.0
    slot.write_exemplar(record.exemplars_at + 40, (0.25, 123, (1 << 100) + 5, 9))
    other = SlotFile.open(str(tmp_path / "slot-0.db"))
    family, series = other.refresh()
    assert family.payload == {"name": "t.x"}
    assert series.payload == ("t.x", ("GET", None, 200))
    assert other.values(series) == [1.5, 0.0, 7.0]
    assert other.exemplars(series) == [None, (0.25, 123, (1 << 100) + 5, 9)]
    assert other.refresh() == []  # parsed once


def test_appends_while_another_thread_parses_are_parsed_once(tmp_path: Path) -> None:
    # The event loop creates series while a /metrics thread refreshes the same slot.
    slot = writable(tmp_path / "slot-0.db")
    stop = threading.Event()

    def parse() -> None:
        while not stop.is_set():
            slot.refresh()

    switch = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible: the race shows
    parser = threading.Thread(target=parse)
    parser.start()
    try:
        for i in range(3000):
            slot.append(SERIES, ["t.x", [i]], 1)
    finally:
        stop.set()
        parser.join()
        sys.setswitchinterval(switch)
    assert len(slot.records) == 3000
