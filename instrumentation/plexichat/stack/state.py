"""``StackState``: what a running ``plexichat-obs up`` runs where, and the lock that says it runs.

``up`` holds an exclusive ``flock`` on ``up.lock`` for its whole life (the kernel drops it when
the process dies, however it dies), and writes ``stack.json`` once everything is healthy.
``status`` and ``snapshot`` read that file to find Prometheus, the profile and the time scale;
a file whose lock nobody holds is stale (an ``up`` that was killed) and is ignored.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any

from plexichat.stack.layout import DEFAULT_DIR, StackDir


@dataclass(frozen=True)
class ComponentState:
    """One running component: PID, URL, log file and data directory."""

    pid: int | None
    url: str | None
    log: str
    data: str | None


@dataclass(frozen=True)
class StackState:
    """What a running ``up`` runs where (``stack.json``)."""

    pid: int
    started: str
    directory: str
    profile: str | None
    time_scale: float
    scrape_interval: str
    prometheus_url: str
    alertmanager_url: str
    service_url: str
    # --native-histograms: the service's job stores native histograms, on this Prometheus
    # release, and keeps (classic_histograms) the classic series or not; off: classic only.
    native_histograms: bool = False
    classic_histograms: bool = True
    prometheus_version: str | None = None
    components: dict[str, ComponentState] = field(default_factory=dict)

    def to_json(self) -> str:
        """The state as ``stack.json`` holds it."""
        return json.dumps(asdict(self), indent=2, sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, text: str) -> StackState:
        """The state :meth:`to_json` wrote."""
        data: dict[str, Any] = json.loads(text)
        components = {k: ComponentState(**v) for k, v in data.pop("components", {}).items()}
        return cls(**data, components=components)


class AlreadyRunningError(RuntimeError):
    """Another ``up`` holds the lock of this state directory."""


class StackLock:
    """The exclusive lock of one state directory, held from ``acquire`` to ``release``."""

    def __init__(self, stack: StackDir) -> None:
        self.stack = stack
        self._file: IO[str] | None = None

    def acquire(self) -> None:
        """Take the lock and write this PID into it; ``AlreadyRunningError`` naming the running
        stack when another ``up`` holds it."""
        self.stack.root.mkdir(parents=True, exist_ok=True)
        handle = self.stack.lock.open("a+", encoding="utf-8")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "?"
            handle.close()
            raise AlreadyRunningError(self._running_message(holder)) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        self._file = handle

    def _running_message(self, holder: str) -> str:
        where = f"a stack already runs from {self.stack.root} (PID {holder}"
        state = read(self.stack)
        if state is not None:
            where += f", since {state.started}, Prometheus {state.prometheus_url}"
        return (
            f"{where}); stop it first (Ctrl-C where it runs, or kill {holder}), or use "
            "another --dir"
        )

    def release(self) -> None:
        """Remove ``stack.json`` and release the lock."""
        if self._file is not None:
            with contextlib.suppress(OSError):
                self.stack.state.unlink(missing_ok=True)
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None


def _held(stack: StackDir) -> bool:
    try:
        with stack.lock.open("r", encoding="utf-8") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError:
                return True
            fcntl.flock(handle, fcntl.LOCK_UN)
            return False
    except FileNotFoundError:
        return False


def read(stack: StackDir) -> StackState | None:
    """The state of the ``up`` running from ``stack``, or ``None`` when none runs."""
    try:
        text = stack.state.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    if not _held(stack):
        return None
    return StackState.from_json(text)


def write(stack: StackDir, state: StackState) -> None:
    """Write ``state`` to ``stack.json`` atomically (readers never see half of it)."""
    temporary = stack.state.with_suffix(".tmp")
    temporary.write_text(state.to_json(), encoding="utf-8")
    temporary.replace(stack.state)


def locate(directory: Path | None) -> StackState | None:
    """The running stack of ``directory`` (default ``.stack``), if any."""
    return read(StackDir(directory or DEFAULT_DIR))
