"""A worker of ``serve --workers N`` follows its parent's death.

uvicorn's supervisor stops its workers when it is stopped, but not when it is killed: a parent
SIGKILLed (or OOM-killed, or SIGKILLed 0.3 s after a SIGTERM, before it passed the signal on)
would leave N orphans serving the port for ever, with no one to restart or stop them.
:func:`follow_parent` makes a worker go after its parent within ``ORPHAN_DEADLINE_S``:

* on Linux the kernel sends the worker SIGTERM the moment the parent dies
  (``prctl(PR_SET_PDEATHSIG)``): uvicorn's graceful shutdown closes the listening socket, lets
  in-flight requests finish and runs the lifespan shutdown;
* a daemon thread watches the parent pid every ``POLL_S`` (the only signal where there is no
  ``prctl``, and the check for a parent that died before ``prctl`` was called); once the
  parent is gone it sends SIGTERM itself and, if the worker is still there
  ``ORPHAN_DEADLINE_S`` later (a request that does not end), exits the process at once.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
import signal
import sys
import threading
import time

PARENT = "PLEXICHAT_SERVE_PARENT"
"""The environment variable that carries the parent's pid to its workers."""
POLL_S = 0.1
"""How often the watch thread looks at the parent pid."""
ORPHAN_DEADLINE_S = 0.8
"""How long an orphaned worker's graceful shutdown may take before the process exits."""
_PR_SET_PDEATHSIG = 1
log = logging.getLogger("plexichat.service")


def _ask_kernel() -> bool:
    """Whether the kernel will SIGTERM this process when its parent dies (Linux)."""
    if not sys.platform.startswith("linux"):
        return False
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    if libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0) == 0:
        return True
    log.warning(
        "prctl(PR_SET_PDEATHSIG) failed (errno %d): the watch thread alone follows the parent",
        ctypes.get_errno(),
    )
    return False


def _watch(parent: int, kernel_signals: bool) -> None:
    while os.getppid() == parent:
        time.sleep(POLL_S)
    log.warning("serve's parent process %d is gone: this worker stops", parent)
    if not kernel_signals:  # a second SIGTERM would make uvicorn skip the graceful part
        os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(ORPHAN_DEADLINE_S)
    os._exit(1)


def follow_parent(parent: int) -> None:
    """Make this process stop within ``ORPHAN_DEADLINE_S`` of ``parent``'s death (see the module
    docstring); call it first thing in a worker. A parent already gone stops it at once."""
    kernel_signals = _ask_kernel()
    if kernel_signals and os.getppid() != parent:  # died before prctl: no signal will come
        kernel_signals = False
    watch = threading.Thread(
        target=_watch, args=(parent, kernel_signals), name="plexichat-parent", daemon=True
    )
    watch.start()
