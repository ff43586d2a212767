"""Stopping the processes tests start, by PID: ask, wait, then kill."""

from __future__ import annotations

import os
import signal
import subprocess
from typing import Any


def stop(
    process: subprocess.Popen[Any],
    *,
    timeout: float = 10,
    sig: int = signal.SIGTERM,
    group: bool = False,
) -> int:
    """Send ``sig`` (to the process group with ``group``), wait up to ``timeout`` seconds for
    the process to exit, else SIGKILL it; its exit status."""
    if process.poll() is not None:
        return process.returncode
    send = os.killpg if group else os.kill
    send(process.pid, sig)
    try:
        return process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        send(process.pid, signal.SIGKILL)
        return process.wait()
