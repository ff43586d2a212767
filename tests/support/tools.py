"""Finding the real tools the tests need: under ``CI=true`` a missing tool fails the test,
elsewhere it skips it with the command that installs it.

Two tools live off PATH: Debian forky's Prometheus 3, ``prometheus3`` and ``promtool3``
(``scripts/prometheus3`` puts them in ``PROMETHEUS3``), beside bookworm's 2.42 ``prometheus`` and
``promtool``; ``version`` tells which release a tool is (forky's floats).

A test that runs a tool is an integration test: mark it with ``@requires_tool("promtool")``
(or ``pytestmark = requires_tool(...)`` for a module), so that ``-m "not integration"`` leaves
it out at collection. ``require_tool`` fails a test that is not marked."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from plexichat.generate.stack.native_histograms import Version
from plexichat.stack.binaries import release

INSTALL = {
    "promtool": "apt-get install -y --no-install-recommends prometheus",
    "prometheus": "apt-get install -y --no-install-recommends prometheus",
    "amtool": "apt-get install -y --no-install-recommends prometheus-alertmanager",
    "prometheus-alertmanager": "apt-get install -y --no-install-recommends prometheus-alertmanager",
    "redis-server": "apt-get install -y --no-install-recommends redis-server",
    "prometheus-redis-exporter": (
        "apt-get install -y --no-install-recommends prometheus-redis-exporter"
    ),
    "prometheus-postgres-exporter": (
        "apt-get install -y --no-install-recommends prometheus-postgres-exporter"
    ),
    "prometheus-node-exporter": (
        "apt-get install -y --no-install-recommends prometheus-node-exporter"
    ),
    "wrk": "apt-get install -y wrk",
    "prometheus3": "scripts/prometheus3 (Debian forky's Prometheus 3, unpacked in /opt)",
    "promtool3": "scripts/prometheus3 (Debian forky's Prometheus 3, unpacked in /opt)",
}

PROMETHEUS3 = Path("/opt/prometheus3/bin")
"""Where ``scripts/prometheus3`` puts forky's ``prometheus`` and ``promtool`` (its ``LINK``)."""
OFF_PATH = {"prometheus3": PROMETHEUS3 / "prometheus", "promtool3": PROMETHEUS3 / "promtool"}

_marked: list[bool] = [True]
"""Whether the running test is marked integration (set by the conftest's guard fixture)."""


@contextlib.contextmanager
def running(marked: bool) -> Iterator[None]:
    _marked.append(marked)
    try:
        yield
    finally:
        _marked.pop()


def requires_tool(*names: str) -> pytest.MarkDecorator:
    """Mark a test (or a module, as ``pytestmark``) that runs ``names``: an integration test."""
    return pytest.mark.integration(tools=names)


def require_tool(name: str) -> str:
    """Path of ``name`` on PATH; fail under CI, skip elsewhere, when it is missing."""
    if not _marked[-1]:
        pytest.fail(
            f"this test runs {name} but is not an integration test: mark it "
            f"@requires_tool({name!r}) (tests/support/tools.py) so that "
            '-m "not integration" leaves it out'
        )
    path = shutil.which(str(OFF_PATH.get(name, name)))
    if path is None:
        message = f"{name} is not installed ({INSTALL.get(name, 'see TOOLS.md')})"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return path


def version(name: str) -> Version:
    """The release of tool ``name`` (see ``require_tool``), from its ``--version`` as ``up``
    reads it: ``promtool, version 3.5.3+ds1 (branch: ...)`` is ``(3, 5, 3)``."""
    return release(require_tool(name))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def refusing_port() -> Iterator[int]:
    """A loopback port that refuses every connection for as long as the block runs: bound (so
    nothing else can take it) and never listening."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield int(sock.getsockname()[1])


def promtool(
    *args: str, stdin: str | None = None, cwd: Path | None = None, tool: str = "promtool"
) -> tuple[int, str]:
    """``promtool ARGS`` (see ``require_tool``; ``tool="promtool3"`` for Prometheus 3's): its
    exit status and its output, stdout then stderr."""
    result = subprocess.run(
        [require_tool(tool), *args],
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
        cwd=cwd,
    )
    return result.returncode, result.stdout + result.stderr
