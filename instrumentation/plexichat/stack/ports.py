"""Which loopback port each component of ``plexichat-obs up`` listens on.

Defaults are the Compose stack's (service 8000, Prometheus 9090, Alertmanager 9093) plus the
webhook receiver on 9095, Redis on 6380 (not 6379, so a system Redis does not collide),
redis_exporter on its default 9121, when the service uses PostgreSQL postgres_exporter on
its default 9187 and with ``--node-exporter`` node_exporter on its default 9100.
``--ports`` changes them: ``auto`` picks free ports for all, ``prometheus=19090,service=0``
sets some (0: a free one). A port that is taken is an error naming it and the flag.
"""

from __future__ import annotations

import socket
from collections.abc import Mapping

DEFAULT_PORTS: Mapping[str, int] = {
    "service": 8000,
    "prometheus": 9090,
    "alertmanager": 9093,
    "receiver": 9095,
    "redis": 6380,
    "redis_exporter": 9121,
    "postgres_exporter": 9187,  # dropped by up when the service uses no PostgreSQL
    "node_exporter": 9100,  # dropped by up without --node-exporter
}
HOST = "127.0.0.1"


class PortError(ValueError):
    """A bad ``--ports`` value or a port already in use."""


def parse(spec: str | None) -> dict[str, int]:
    """``--ports`` -> the requested port of each component (0: any free port)."""
    ports = dict(DEFAULT_PORTS)
    if not spec:
        return ports
    if spec.strip() == "auto":
        return dict.fromkeys(ports, 0)
    for part in filter(None, (piece.strip() for piece in spec.split(","))):
        name, sep, value = part.partition("=")
        name = name.strip()
        if not sep or name not in ports:
            raise PortError(
                f"--ports: {part!r} is not NAME=PORT with NAME one of {', '.join(ports)} "
                "(or use --ports auto)"
            )
        try:
            port = int(value)
        except ValueError:
            raise PortError(f"--ports: {name}={value!r} is not a port number") from None
        if not 0 <= port <= 65535:
            raise PortError(f"--ports: {name}={port} is outside 0-65535")
        ports[name] = port
    return ports


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def _check_free(name: str, port: int) -> None:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, port))
        except OSError as exc:
            raise PortError(
                f"port {port} for {name} on {HOST} is in use ({exc.strerror}): free it, or "
                f"choose another with --ports {name}=PORT (--ports auto picks free ones)"
            ) from None


def resolve(requested: Mapping[str, int]) -> dict[str, int]:
    """Concrete ports: free ones for 0, each checked to be bindable now; no port twice."""
    fixed: dict[int, str] = {}
    for name, port in requested.items():
        if port and port in fixed:
            raise PortError(f"--ports: {name} and {fixed[port]} both ask for port {port}")
        fixed.setdefault(port, name)
    chosen: dict[str, int] = {}
    for name, port in requested.items():
        if port == 0:
            port = _free_port()
            while port in chosen.values() or port in fixed:
                port = _free_port()
        else:
            _check_free(name, port)
        chosen[name] = port
    return chosen


def bound(port: int) -> bool:
    """Whether something listens on ``HOST:port`` (used to prove nothing is left behind)."""
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex((HOST, port)) == 0
