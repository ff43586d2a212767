"""The real programs ``plexichat-obs up`` runs, the Debian package each comes from, and which
release one is.

A missing one is a single line naming the package and ``scripts/system-packages`` (which
installs them all), not a traceback from deep inside the start-up; so is a program whose
``--version`` names no release (``release``).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass

from plexichat.generate.stack.native_histograms import Version

VERSION_TIMEOUT_S = 10.0
"""``--version`` answers in well under a second; this only catches a program that hangs."""
_VERSION_LINE = re.compile(r"^\S+, version (\d+)\.(\d+)\.(\d+)\b")


@dataclass(frozen=True)
class Binary:
    """A program the stack runs: the names to look for on ``PATH``, in order, and the Debian
    package that provides it."""

    component: str
    names: tuple[str, ...]  # tried in order on PATH
    package: str  # Debian package


BINARIES: dict[str, Binary] = {
    "redis": Binary("redis", ("redis-server",), "redis-server"),
    # Debian names the binary after the package; an upstream tarball calls it alertmanager.
    "alertmanager": Binary(
        "alertmanager", ("prometheus-alertmanager", "alertmanager"), "prometheus-alertmanager"
    ),
    "prometheus": Binary("prometheus", ("prometheus",), "prometheus"),
    # Debian names it after the package; upstream's tarball and image call it redis_exporter.
    "redis_exporter": Binary(
        "redis_exporter",
        ("prometheus-redis-exporter", "redis_exporter"),
        "prometheus-redis-exporter",
    ),
    # Needed only when the service uses PostgreSQL.
    "postgres_exporter": Binary(
        "postgres_exporter",
        ("prometheus-postgres-exporter", "postgres_exporter"),
        "prometheus-postgres-exporter",
    ),
    # Needed only with up --node-exporter; upstream's tarball and image call it node_exporter.
    "node_exporter": Binary(
        "node_exporter",
        ("prometheus-node-exporter", "node_exporter"),
        "prometheus-node-exporter",
    ),
}


class MissingBinaryError(RuntimeError):
    """A program ``up`` needs is not on PATH."""

    def __init__(self, binary: Binary) -> None:
        super().__init__(
            f"{binary.names[0]} not found on PATH: install the Debian package {binary.package} "
            f"(sudo apt-get install -y --no-install-recommends {binary.package}), or run "
            "scripts/system-packages, which installs everything the stack needs"
        )
        self.binary = binary


def locate(component: str) -> str:
    """The path of ``component``'s program; ``MissingBinaryError`` when it is not installed."""
    binary = BINARIES[component]
    for name in binary.names:
        path = shutil.which(name)
        if path is not None:
            return path
    raise MissingBinaryError(binary)


def locate_all(components: Iterable[str] = BINARIES) -> dict[str, str]:
    """The program of every one of ``components`` (default: all), checked before anything
    starts (the first missing one raises)."""
    return {component: locate(component) for component in components}


class VersionError(RuntimeError):
    """A program's ``--version`` names no release."""


def release(path: str) -> Version:
    """The release of the Prometheus project's program at ``path``, from the first line of its
    ``--version`` (``prometheus, version 2.42.0+ds (branch: ...)`` is ``(2, 42, 0)``);
    ``VersionError`` naming the program and what it printed otherwise."""
    command = f"{path} --version"
    try:
        ran = subprocess.run(
            [path, "--version"],
            capture_output=True,
            text=True,
            timeout=VERSION_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise VersionError(f"{command} failed: {exc}") from None
    lines = (ran.stdout or ran.stderr).splitlines()
    first = lines[0].strip() if lines else ""
    found = _VERSION_LINE.match(first)
    if ran.returncode != 0 or found is None:
        raise VersionError(
            f"{command} (exit status {ran.returncode}) printed {first!r}, not "
            "'NAME, version X.Y.Z ...': cannot tell which release it is"
        )
    major, minor, patch = (int(part) for part in found.groups())
    return major, minor, patch
