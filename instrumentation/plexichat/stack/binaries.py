"""The real programs ``plexichat-obs up`` runs, and the Debian package each comes from.

A missing one is a single line naming the package and ``scripts/system-packages`` (which
installs them all), not a traceback from deep inside the start-up.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable
from dataclasses import dataclass


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
