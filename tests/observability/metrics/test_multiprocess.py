"""Multi-worker mode: registries sharing a multiprocess directory merge exactly.

Several registries in one process stand for several workers: each opens the directory on its
own descriptors, and ``flock`` locks on separate open files conflict within one process as
between processes. A worker's death is its slot's lock going away (``unshare`` here; the
kernel on SIGKILL in ``tests/e2e/test_multiworker.py``). ``os.fork`` tests run a real child.
"""

from __future__ import annotations

import json
import math
import os
import time
from pathlib import Path

import pytest

from plexichat.observability.metrics import directory, slots
from plexichat.observability.metrics.directory import MultiprocessDirectory
from plexichat.observability.metrics.instruments import Family, SharedCounterSeries
from plexichat.observability.metrics.points import HistogramPoint
from plexichat.observability.metrics.registry import MetricRegistry
from tests.support.datamodel import metrics, number_points


class Worker:
    """A registry in multi-worker mode with the service's kinds of families."""

    def __init__(self, directory: Path, limit: int = 2000) -> None:
        self.registry = MetricRegistry(series_limit=limit)
        self.registry.share(MultiprocessDirectory(directory))
        self.requests = self.registry.family("t.requests", "counter", "1", "Requests.", ("route",))
        self.duration = self.registry.family(
            "t.duration",
            "histogram",
            "s",
            "Durations.",
            ("route",),
            boundaries=(0.1, 1),
            exemplars=True,
        )
        self.active = self.registry.family("t.active", "updowncounter", "1", "Active.", ())
        self.latest = self.registry.family("t.latest", "gauge", "1", "Latest.", ())
        self.summed = self.registry.family("t.summed", "gauge", "1", "Summed.", (), merge="sum")
        self.highest = self.registry.family("t.highest", "gauge", "1", "Max.", (), merge="max")
        self.registry.claim()

    def points(self) -> dict[str, dict[object, object]]:
        return {family.name: dict(points) for family, points in self.registry.points()}

    def die(self) -> None:
        self.registry.unshare()


@pytest.fixture
def shared(tmp_path: Path) -> Path:
    return tmp_path / "metrics"


def test_every_worker_scrapes_the_exact_merge(shared: Path) -> None:
    a, b = Worker(shared), Worker(shared)
    for _ in range(3):
        a.requests.counter(("/x",)).add()
    b.requests.counter(("/x",)).add(2)
    b.requests.counter(("/y",)).add()
    a.duration.histogram(("/x",)).record(0.05)
    b.duration.histogram(("/x",)).record(5)
    a.active.counter().add(2)
    b.active.counter().add(1)
    for worker in (a, b):
        points = worker.points()
        assert points["t.requests"] == {("/x",): 5, ("/y",): 1}
        histogram = points["t.duration"][("/x",)]
        assert isinstance(histogram, HistogramPoint)
        assert (histogram.counts, histogram.sum) == ([1, 0, 1], 5.05)
        assert (histogram.min, histogram.max) == (0.05, 5)
        assert points["t.active"] == {(): 3}
    a.die()
    b.die()


def test_a_dead_workers_totals_stay_and_its_live_values_go(shared: Path) -> None:
    a, b = Worker(shared), Worker(shared)
    a.requests.counter(("/x",)).add(10)
    a.active.counter().add(4)  # in flight when it dies
    a.latest.counter().set(7)
    b.requests.counter(("/x",)).add(1)
    b.active.counter().add(1)
    a.die()
    points = b.points()
    assert points["t.requests"] == {("/x",): 11}
    assert points["t.active"] == {(): 1}
    assert "t.latest" not in points  # only the dead worker set it
    # A successor claims the free slot, continues its counters, starts its live values at 0.
    c = Worker(shared)
    c.requests.counter(("/x",)).add(1)
    assert c.points()["t.requests"] == {("/x",): 12}
    assert c.points()["t.active"] == {(): 1}
    assert len(list(shared.glob("slot-*.db"))) == 2
    b.die()
    c.die()


def test_slots_stay_bounded_by_the_workers_alive_at_once(shared: Path) -> None:
    keeper = Worker(shared)
    for recycled in range(1, 21):  # twenty recycles of the second worker
        worker = Worker(shared)
        worker.requests.counter(("/x",)).add(1)
        assert keeper.points()["t.requests"] == {("/x",): recycled}
        worker.die()
    assert sorted(p.name for p in shared.glob("slot-*.db")) == ["slot-0.db", "slot-1.db"]
    keeper.die()


def test_workers_all_recycled_at_once_continue_the_instance(shared: Path) -> None:
    first = Worker(shared)
    first.requests.counter(("/x",)).add(5)
    started = first.registry.start_time_ns
    first.die()  # no slot held for a moment (gunicorn --max-requests under even load)
    second = Worker(shared)
    assert second.points()["t.requests"] == {("/x",): 5}
    assert second.registry.start_time_ns == started
    second.die()


def test_a_new_server_starts_a_new_instance(shared: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = Worker(shared)
    first.requests.counter(("/x",)).add(5)
    started = first.registry.start_time_ns
    first.die()
    # the next worker's parent is another process: the server was restarted
    monkeypatch.setattr(directory, "parent_identity", lambda: [os.getpid(), 1.0])
    second = Worker(shared)
    assert second.points().get("t.requests") is None
    assert second.registry.start_time_ns > started
    second.die()


def test_a_process_that_serves_nothing_collects_without_claiming_a_slot(shared: Path) -> None:
    """gunicorn's arbiter under ``--preload``: the app (and its OTLP reader, whose collections
    observe the process gauges) is built there, but the arbiter only forks the workers."""
    worker = Worker(shared)
    worker.requests.counter(("/x",)).add(2)
    arbiter = MetricRegistry()
    store = arbiter.share(MultiprocessDirectory(shared))
    metrics = {m.name: m for m in arbiter.collect()}  # a periodic OTLP reader's tick
    assert metrics["t.requests"].data.data_points[0].value == 2  # type: ignore[union-attr]
    assert store.live_pids() == [os.getpid()]  # the worker's (this process here): one
    assert not store.claimed
    assert [p.name for p in shared.glob("slot-*.db")] == ["slot-0.db"]
    arbiter.unshare()
    worker.die()


def test_gauges_merge_as_their_family_declares(shared: Path) -> None:
    a, b = Worker(shared), Worker(shared)
    a.summed.counter().set(2)
    b.summed.counter().set(3)
    a.highest.counter().set(9)
    b.highest.counter().set(4)
    a.latest.counter().set(1)
    b.latest.counter().set(8)
    a.latest.counter().set(6)  # set last
    points = a.points()
    assert (points["t.summed"], points["t.highest"], points["t.latest"]) == (
        {(): 5},
        {(): 9},
        {(): 6},
    )
    a.die()
    b.die()


def test_admission_to_the_series_budget_is_decided_once_for_the_instance(shared: Path) -> None:
    a, b = Worker(shared, limit=2), Worker(shared, limit=2)
    a.requests.counter(("/1",)).add()
    a.requests.counter(("/2",)).add()
    b.requests.counter(("/3",)).add()  # the budget is full: overflow, in every worker
    b.requests.counter(("/1",)).add()  # admitted by a: its own series in b too
    a.requests.counter(("/3",)).add()
    for worker in (a, b):
        points = worker.points()["t.requests"]
        assert points == {("/1",): 2, ("/2",): 1, None: 2}
        assert worker.points()["plexichat.metric.overflow"] == {("t.requests",): 2}
    a.die()
    b.die()


def test_merged_points_start_when_the_instance_did(shared: Path) -> None:
    a = Worker(shared)
    b = Worker(shared)
    meta = json.loads((shared / "meta.json").read_text())
    assert a.registry.start_time_ns == b.registry.start_time_ns == meta["created_ns"]
    assert "t.requests" not in metrics(b.registry)  # nothing recorded yet
    a.requests.counter(("/x",)).add()
    (point,) = number_points(b.registry, "t.requests")
    assert point.start_time_unix_nano == meta["created_ns"]
    a.die()
    b.die()


def test_the_newest_exemplar_of_any_worker_wins_per_bucket(shared: Path) -> None:
    a, b = Worker(shared), Worker(shared)
    for worker, trace_id in ((a, 1), (b, 2), (a, 3)):
        series = worker.duration.histogram(("/x",))
        series.record(0.5)
        series.record_exemplar(0.5, trace_id, 9)
    b.duration.histogram(("/x",)).record_exemplar(0.05, 4, 9)
    point = a.points()["t.duration"][("/x",)]
    assert isinstance(point, HistogramPoint)
    assert point.exemplars is not None
    assert [e and e[2] for e in point.exemplars] == [4, 3, None]
    a.die()
    b.die()


def test_families_only_another_worker_recorded_are_scraped_too(shared: Path) -> None:
    a, b = Worker(shared), Worker(shared)
    a.registry.family("t.only_a", "counter", "1", "Only in a.", ()).counter().add(3)
    assert b.points()["t.only_a"] == {(): 3}
    family = b.registry.family("t.only_a", "counter", "1", "Only in a.", ())
    assert isinstance(family, Family)
    a.die()
    b.die()


def test_series_bound_before_the_claim_move_into_the_slot(shared: Path) -> None:
    registry = MetricRegistry()
    counter = registry.family("t.requests", "counter", "1", "Requests.", ())
    series = counter.counter()
    series.add(2)  # recorded before the worker started serving
    histogram = registry.family("t.h", "histogram", "s", "H.", (), boundaries=(1,)).histogram()
    histogram.record(0.5)
    registry.share(MultiprocessDirectory(shared))
    other = Worker(shared)
    registry.claim()
    assert isinstance(series, SharedCounterSeries)
    series.add(1)
    histogram.record(2)
    points = other.points()
    assert points["t.requests"] == {(): 3}
    merged = points["t.h"][()]
    assert isinstance(merged, HistogramPoint)
    assert (merged.counts, merged.min, merged.max) == ([1, 1], 0.5, 2)
    registry.unshare()
    other.die()


def test_a_forked_child_records_into_its_own_slot(shared: Path) -> None:
    parent = Worker(shared)
    series = parent.requests.counter(("/x",))
    series.add(5)
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: count 2 into its own slot, report what it sees, leave
        try:
            series.add(1)  # the object the parent bound, moved out of its slot: from zero
            parent.registry.claim()  # as a worker does when it starts serving
            series.add(1)
            seen = parent.points()["t.requests"][("/x",)]
            os.write(write_end, json.dumps([seen, sorted(os.listdir(shared))]).encode())
        finally:
            os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end) as pipe:
        seen, files = json.loads(pipe.read())
    os.waitpid(pid, 0)
    # The parent's 5 counted once (in its slot), the child's own 2 in the child's.
    assert seen == 7
    assert [f for f in files if f.startswith("slot-")] == ["slot-0.db", "slot-1.db"]
    assert parent.points()["t.requests"] == {("/x",): 7}  # the child is gone, its total stays
    assert series.value == 5
    parent.die()


def test_histograms_start_with_no_extremes(shared: Path) -> None:
    a = Worker(shared)
    a.duration.histogram(("/x",))
    point = a.points()["t.duration"][("/x",)]
    assert isinstance(point, HistogramPoint)
    assert (point.count, point.min, point.max) == (0, math.inf, -math.inf)
    a.die()


def test_a_grandchild_does_not_keep_a_dead_workers_slot(shared: Path) -> None:
    """A worker that forks a helper and dies frees its slot, though the helper lives on with
    the worker's descriptors (they are closed in the helper by its after-fork hook, which runs
    before ``fork()`` returns there: the worker waits for the helper to be running)."""
    parent = Worker(shared)
    running, helper_started = os.pipe()
    pid = os.fork()
    if pid == 0:  # the worker
        try:
            parent.registry.claim()
            parent.requests.counter(("/x",)).add(3)
            if os.fork() == 0:  # its helper: outlives it
                os.write(helper_started, b"x")
                time.sleep(3)
                os._exit(0)
            os.read(running, 1)
        finally:
            os._exit(0)
    os.close(helper_started)
    os.waitpid(pid, 0)
    os.close(running)
    successor = Worker(shared)  # takes the dead worker's slot, not a new one
    assert sorted(p.name for p in shared.glob("slot-*.db")) == ["slot-0.db", "slot-1.db"]
    assert successor.points()["t.requests"] == {("/x",): 3}
    successor.die()
    parent.die()


def test_a_full_slot_folds_new_series_into_the_overflow_never_failing(
    shared: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(slots, "RESERVED_BYTES", 128 << 10)  # a slot of 128 KiB
    worker = Worker(shared)
    for i in range(2000):  # ~100 bytes a record: the slot fills long before the budget
        worker.requests.counter((f"/{i}",)).add()
    points = worker.points()["t.requests"]
    assert None in points  # the overflow series took what did not fit
    assert sum(v for v in points.values() if isinstance(v, float | int)) == 2000  # none lost
    assert "no room for another series" in caplog.text
    assert "performance.observability.multiprocess_dir" in caplog.text
    worker.die()
