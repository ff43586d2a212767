"""``Child``: one program of the stack, started, waited for and stopped by PID.

Each child runs in a session (process group) of its own, so a Ctrl-C in the terminal reaches
only ``plexichat-obs up``, which then stops the children itself, in reverse order: SIGTERM to
the child's whole group, then SIGKILL after ``timeout`` seconds. Children also get SIGTERM from
the kernel if ``up`` dies without cleaning up (``PR_SET_PDEATHSIG``), so not even a
``kill -9`` of ``up`` leaves a stack running. Output goes to one log file per child.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

STOP_TIMEOUT_S = 10.0
PR_SET_PDEATHSIG = 1


class StartError(RuntimeError):
    """A child exited or did not become healthy in time (the message quotes its log)."""


def _die_with_parent() -> None:  # pragma: no cover - runs in the forked child
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def _log_tail(path: Path, lines: int = 8) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(text.rstrip().splitlines()[-lines:])


class Child:
    """A program of the stack; ``start``, ``wait_ready``, ``stop``."""

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        log: Path,
        *,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
    ) -> None:
        self.name = name
        self.argv = list(argv)
        self.log = log
        self.env = dict(env) if env is not None else None
        self.cwd = cwd
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        """The child's PID once started."""
        return self.process.pid if self.process is not None else None

    def start(self) -> None:
        """Start the program in a session of its own, appending its output to its log."""
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                self.argv,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=self.env,
                cwd=self.cwd,
                start_new_session=True,
                preexec_fn=_die_with_parent,  # safe: up starts children from its only thread
            )

    def poll(self) -> int | None:
        """The exit status once the child has exited, else ``None``."""
        return self.process.poll() if self.process is not None else None

    def wait_ready(self, ready: Callable[[], bool], timeout_s: float, what: str) -> float:
        """Poll ``ready`` until true; the seconds it took. ``StartError`` if the child exits
        or ``timeout_s`` passes first."""
        started = time.monotonic()
        while True:
            status = self.poll()
            if status is not None:
                raise StartError(
                    f"{self.name} exited with status {status} before {what} "
                    f"(log {self.log}):\n{_log_tail(self.log)}"
                )
            with contextlib.suppress(OSError):
                if ready():
                    return time.monotonic() - started
            if time.monotonic() - started > timeout_s:
                raise StartError(
                    f"{self.name} did not get {what} within {timeout_s:.0f} s "
                    f"(log {self.log}):\n{_log_tail(self.log)}"
                )
            time.sleep(0.1)

    def signal(self, signum: int) -> None:
        """Send ``signum`` to the child's process group (it and anything it started)."""
        if self.process is not None and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signum)

    def stop(self, timeout_s: float = STOP_TIMEOUT_S) -> str:
        """SIGTERM, then SIGKILL after ``timeout_s``; how it ended, in words."""
        process = self.process
        if process is None:
            return "not started"
        status = process.poll()
        if status is not None:
            self._reap_group()
            return f"had exited (status {status})"
        self.signal(signal.SIGCONT)  # a stopped (SIGSTOP) child must run to handle SIGTERM
        self.signal(signal.SIGTERM)
        try:
            process.wait(timeout=timeout_s)
            how = "stopped"
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            how = f"killed after {timeout_s:.0f} s"
        self._reap_group()
        return how

    def _reap_group(self) -> None:
        """SIGKILL whatever is left in the child's process group once the child is gone."""
        if self.process is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.process.pid, signal.SIGKILL)
