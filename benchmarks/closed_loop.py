"""A closed-loop HTTP/1.1 client for fixed request lists: ``connections`` keep-alive
connections, each sending the next path as soon as its previous answer is read.

Plain asyncio streams, no HTTP library: a request costs the client ~30 µs, so at the rates
``scripts/bench quantiles`` runs (a few thousand a second at most) one core sends them with
room to spare; ``Load.client_cpu`` says how busy it was.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Load:
    """What a run sent: answers by status, wall seconds, the client's CPU share."""

    requests: int
    failed: int  # answers other than 200
    seconds: float
    client_cpu: float  # process CPU seconds / wall seconds while it ran


async def _connection(host: str, port: int, paths: Iterator[str], failed: list[int]) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        for path in paths:
            writer.write(f"GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head.split(b" ", 2)[1])
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            await reader.readexactly(length)
            if status != 200:
                failed.append(status)
    finally:
        writer.close()


async def _drive(host: str, port: int, paths: Sequence[str], connections: int) -> list[int]:
    shared = iter(paths)  # connections take the next path in turn
    failed: list[int] = []
    await asyncio.gather(
        *(_connection(host, port, shared, failed) for _ in range(min(connections, len(paths))))
    )
    return failed


def run(host: str, port: int, paths: Sequence[str], connections: int) -> Load:
    """Send every path once over ``connections`` connections; return when all are answered."""
    wall0, cpu0 = time.monotonic(), time.process_time()
    failed = asyncio.run(_drive(host, port, paths, connections))
    wall = time.monotonic() - wall0
    return Load(len(paths), len(failed), wall, (time.process_time() - cpu0) / wall)
