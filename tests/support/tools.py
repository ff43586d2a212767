"""Finding the real tools the tests need: under ``CI=true`` a missing tool fails the test,
elsewhere it skips it with the command that installs it."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from pathlib import Path

import pytest

INSTALL = {
    "promtool": "apt-get install -y --no-install-recommends prometheus",
    "prometheus": "apt-get install -y --no-install-recommends prometheus",
    "amtool": "apt-get install -y --no-install-recommends prometheus-alertmanager",
    "prometheus-alertmanager": "apt-get install -y --no-install-recommends prometheus-alertmanager",
    "redis-server": "apt-get install -y --no-install-recommends redis-server",
    "wrk": "apt-get install -y wrk",
}


def require_tool(name: str) -> str:
    """Path of ``name`` on PATH; fail under CI, skip elsewhere, when it is missing."""
    path = shutil.which(name)
    if path is None:
        message = f"{name} is not installed ({INSTALL.get(name, 'see TOOLS.md')})"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def promtool(*args: str, stdin: str | None = None, cwd: Path | None = None) -> tuple[int, str]:
    """``promtool ARGS`` (see ``require_tool``): its exit status and its output, stdout then
    stderr."""
    result = subprocess.run(
        [require_tool("promtool"), *args],
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
        cwd=cwd,
    )
    return result.returncode, result.stdout + result.stderr
