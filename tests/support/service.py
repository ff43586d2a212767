"""``plexichat-obs serve`` in a subprocess on a free loopback port, everything it writes under
one temporary directory (``data/``, ``performance.log``, ``serve.log``), never the checkout."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.support.processes import stop
from tests.support.tools import free_port


@dataclass
class Service:
    url: str
    home: Path
    process: subprocess.Popen[bytes]

    @property
    def performance_log(self) -> Path:
        return self.home / "performance.log"

    @property
    def output(self) -> str:
        """What the server printed (stdout and stderr) so far."""
        return (self.home / "serve.log").read_text(errors="replace")

    @property
    def returncode(self) -> int | None:
        return self.process.returncode


def service_environment(home: Path, env: Mapping[str, str] | None = None) -> dict[str, str]:
    """The caller's environment without its ``PLEXICHAT_*``/``OTEL_*`` settings, the service's
    data and performance log under ``home``, then ``env``."""
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith(("PLEXICHAT_", "OTEL_"))},
        "PLEXICHAT_SERVICE__DATA_DIR": str(home / "data"),
        "PLEXICHAT_PERFORMANCE__PERFORMANCE_LOG_FILE": str(home / "performance.log"),
        **(env or {}),
    }


@contextmanager
def serving(
    home: Path,
    env: Mapping[str, str] | None = None,
    args: Sequence[str] = (),
    ready_within_s: float = 20,
) -> Iterator[Service]:
    """Start the service, wait until ``/readyz`` answers 200, yield it; SIGTERM it on exit (a
    kill after 15 s). After the block, ``returncode`` and ``output`` tell how it ended."""
    port = free_port()
    command = [sys.executable, "-m", "plexichat.cli", "serve", "--port", str(port), *args]
    home.mkdir(parents=True, exist_ok=True)
    with (home / "serve.log").open("wb") as log:
        process = subprocess.Popen(
            command, env=service_environment(home, env), stdout=log, stderr=subprocess.STDOUT
        )
    service = Service(f"http://127.0.0.1:{port}", home, process)
    try:
        deadline = time.monotonic() + ready_within_s
        while True:
            try:
                if httpx.get(f"{service.url}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"server did not become ready:\n{service.output}")
            time.sleep(0.1)
        yield service
    finally:
        stop(process, timeout=15)
