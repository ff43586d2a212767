"""The multiprocess directory: the slot files of one service instance and who holds them.

``performance.observability.multiprocess_dir`` names it (``plexichat-obs serve --workers N``
makes one under ``/dev/shm`` when it is unset). It holds:

* ``slot-<n>.db`` — one per worker (:mod:`~plexichat.observability.metrics.slots`). A worker
  *claims* the lowest free slot and holds an exclusive ``flock`` on it for as long as it lives.
  The kernel drops the lock on any death (exit, SIGKILL, OOM kill), so "locked" is exactly
  "its worker is alive" — no pids (they do not survive pid namespaces and get reused), no
  ``mark_process_dead`` hook. A worker that claims a dead worker's slot continues its
  counters, so totals never drop; there are never more slots than workers were alive at once.
  A process a worker forks shares the lock through the inherited descriptor until its
  after-fork hook closes it, right after the fork: a worker dying in that instant leaves its
  slot held a moment longer, and its successor takes another slot (totals stay exact).
* ``meta.json`` — the instance's start time: the start time of every merged point, so a new
  OTLP exporter continues the same cumulative stream.
* ``directory.lock`` — serialises claims and series admissions (exclusive) against liveness
  probes (shared).
* ``leader.lock`` — held by the one worker that exports OTLP metrics and serves the extra
  Prometheus port (:class:`Leadership`).

A claim that finds no slot locked *and* a different parent process than the one that
started the directory's instance starts a new instance: the directory is wiped first (a
counter reset Prometheus sees once, as after any restart of a single process). The parent —
uvicorn's supervisor, gunicorn's arbiter, identified by pid and start time — outlives its
workers: when every worker recycles at once (``--max-requests`` with even load does that),
the next one continues the instance instead of wiping it.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import threading
import time
import weakref
from collections.abc import Iterator
from pathlib import Path

import psutil

from plexichat.observability.metrics.slots import SlotFile

_SLOT = re.compile(r"^slot-(\d+)\.db$")
META = "meta.json"


def parent_identity() -> list[float]:
    """The parent process as ``[pid, start time]`` (a pid alone is reused)."""
    parent = os.getppid()
    try:
        return [parent, psutil.Process(parent).create_time()]
    except psutil.Error:
        return [parent, 0.0]


def _try_lock(fd: int, operation: int) -> bool:
    try:
        fcntl.flock(fd, operation | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


class MultiprocessDirectory:
    """Slots, liveness and the start time of the instance whose workers share ``path``."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            self._lock_fd = os.open(self.path / "directory.lock", os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise OSError(
                f"performance.observability.multiprocess_dir: cannot use {self.path}: {exc}"
            ) from exc
        self._others: dict[str, SlotFile] = {}
        self.own: SlotFile | None = None
        self.created_ns = 0
        # flock is per open file: two threads of this process on one descriptor would convert
        # and release each other's lock, so they take turns first.
        self._threads = threading.Lock()

    @contextlib.contextmanager
    def locked(self, *, shared: bool = False) -> Iterator[None]:
        """Hold the directory lock for the block: exclusive (claims, admissions) or ``shared``
        (liveness probes); threads of this process take turns."""
        with self._threads:
            fcntl.flock(self._lock_fd, fcntl.LOCK_SH if shared else fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(self._lock_fd, fcntl.LOCK_UN)

    def _slot_names(self) -> list[str]:
        found = [
            (int(m.group(1)), m.group(0)) for m in map(_SLOT.match, os.listdir(self.path)) if m
        ]
        return [name for _, name in sorted(found)]

    def claim(self) -> SlotFile:
        """Claim the lowest free slot (wiping the directory first when no slot is held)."""
        try:
            return self._claim()
        except OSError as exc:
            raise OSError(
                f"performance.observability.multiprocess_dir: cannot claim a slot in "
                f"{self.path}: {exc}"
            ) from exc

    def _claim(self) -> SlotFile:
        with self.locked():
            free: list[tuple[str, int]] = []
            held = False
            for name in self._slot_names():
                fd = os.open(self.path / name, os.O_RDWR)
                if _try_lock(fd, fcntl.LOCK_EX):
                    free.append((name, fd))
                else:
                    held = True
                    os.close(fd)
            if not held and self._meta().get("parent") != parent_identity():
                for name, fd in free:
                    os.unlink(self.path / name)
                    os.close(fd)
                free = []
                self._write_meta()
            for _, fd in free[1:]:
                fcntl.flock(fd, fcntl.LOCK_UN)
                os.close(fd)
            if free:
                name, fd = free[0]
            else:
                name, fd = self._new_slot()
            slot = SlotFile(str(self.path / name), fd, writable=True)
            slot.set_owner(os.getpid(), time.time_ns())
            self.created_ns = int(str(self._meta()["created_ns"]))
        self.own = slot
        return slot

    def _meta(self) -> dict[str, object]:
        try:
            found = json.loads((self.path / META).read_text())
        except (OSError, ValueError):
            return {}
        return found if isinstance(found, dict) else {}

    def _new_slot(self) -> tuple[str, int]:
        taken = set(self._slot_names())
        index = next(i for i in range(len(taken) + 1) if f"slot-{i}.db" not in taken)
        name = f"slot-{index}.db"
        fd = os.open(self.path / name, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX)  # new and unseen: cannot be contended
        return name, fd

    def _write_meta(self) -> None:
        tmp = self.path / f"{META}.tmp"
        meta = {"version": 1, "created_ns": time.time_ns(), "parent": parent_identity()}
        tmp.write_text(json.dumps(meta))
        tmp.replace(self.path / META)

    def refresh(self) -> list[SlotFile]:
        """Every slot (this process's own included), records parsed up to now. The caller
        holds the directory lock."""
        out: list[SlotFile] = []
        for name in self._slot_names():
            path = str(self.path / name)
            if self.own is not None and path == self.own.path:
                slot = self.own
            else:
                found = self._others.get(name)
                slot = found if found is not None else SlotFile.open(path)
                self._others[name] = slot
            slot.refresh()
            out.append(slot)
        return out

    def slots(self) -> list[tuple[SlotFile, bool]]:
        """Every slot, parsed up to now, with whether its worker is alive."""
        with self.locked(shared=True):
            out = []
            for slot in self.refresh():
                alive = slot is self.own or not _try_lock(slot.fd, fcntl.LOCK_SH)
                if not alive:
                    fcntl.flock(slot.fd, fcntl.LOCK_UN)
                out.append((slot, alive))
        return out

    def forget(self) -> None:
        """After a fork, in the child: drop the parent's slot and descriptors without
        unlocking them (the parent still holds its slot)."""
        for slot in [*self._others.values(), *([self.own] if self.own else [])]:
            slot.close()
        self._others.clear()
        self.own = None
        self._threads = threading.Lock()  # another parent thread may have held it at the fork
        os.close(self._lock_fd)
        self._lock_fd = os.open(self.path / "directory.lock", os.O_RDWR | os.O_CREAT, 0o600)

    def close(self) -> None:
        """Close every slot and give this worker's own slot up (unlocked: the next worker may
        claim it)."""
        for slot in self._others.values():
            slot.close()
        self._others.clear()
        if self.own is not None:
            fcntl.flock(self.own.fd, fcntl.LOCK_UN)
            self.own.close()
            self.own = None
        os.close(self._lock_fd)


class Leadership:
    """The one worker of an instance that exports OTLP metrics and serves the extra port:
    whoever holds ``leader.lock``. Another worker takes over when the leader dies (the kernel
    releases its lock) at its next :meth:`try_acquire`."""

    def __init__(self, directory: MultiprocessDirectory) -> None:
        self._path = directory.path / "leader.lock"
        self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
        self.held = False
        ref = weakref.WeakMethod(self.forget)
        os.register_at_fork(after_in_child=lambda: (method := ref()) is not None and method())

    def try_acquire(self) -> bool:
        """True when this process leads (now or already)."""
        if not self.held and _try_lock(self._fd, fcntl.LOCK_EX):
            self.held = True
            os.pwrite(self._fd, f"{os.getpid():<20}\n".encode(), 0)  # for operators, tests
        return self.held

    def forget(self) -> None:
        """After a fork, in the child: not the leader, and the parent keeps its lock (a lock
        taken through the inherited descriptor would be shared with the parent and every
        sibling: they would all lead)."""
        if self._fd < 0:
            return
        os.close(self._fd)
        self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
        self.held = False

    def release(self) -> None:
        """Stop leading (another worker takes over at its next ``try_acquire``) and close the
        lock file; for good."""
        if self.held:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            self.held = False
        os.close(self._fd)
        self._fd = -1
