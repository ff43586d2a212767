"""loadgen's client against a real uvicorn that closes idle keep-alive connections."""

from __future__ import annotations

import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator

import pytest

from plexichat.loadgen.client import Client, ConnectError
from tests.support.paths import ROOT
from tests.support.processes import stop
from tests.support.tools import free_port

SERVER_KEEP_ALIVE_S = 1


@pytest.fixture
def stub_url() -> Iterator[str]:
    """``benchmarks.stub``'s app under uvicorn, closing connections idle for 1 s."""
    port = free_port()
    cmd = [sys.executable, "-m", "uvicorn", "benchmarks.stub:app", "--app-dir", str(ROOT)]
    cmd += ["--port", str(port), "--timeout-keep-alive", str(SERVER_KEEP_ALIVE_S)]
    proc = subprocess.Popen([*cmd, "--log-level", "warning"], cwd=ROOT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(url, timeout=1).close()
                break
            except OSError:
                assert proc.poll() is None, "stub exited"
                assert time.monotonic() < deadline, "stub did not start in 30 s"
                time.sleep(0.1)
        yield url
    finally:
        stop(proc)


async def _request_after_the_server_closed_idle(client: Client) -> None:
    assert (await client.request("GET", "/")).status == 200
    # The server closes the idle connection while the generator's loop is busy (a blocking
    # sleep stands for a busy core), so the client has not yet seen the close when it sends.
    time.sleep(SERVER_KEEP_ALIVE_S + 0.5)  # noqa: ASYNC251 -- blocking the loop is the point
    assert (await client.request("GET", "/")).status == 200


async def test_an_idle_connection_is_closed_before_the_server_closes_it(stub_url: str) -> None:
    client = Client(stub_url, timeout_s=5, idle_timeout_s=SERVER_KEEP_ALIVE_S / 2)
    try:
        await _request_after_the_server_closed_idle(client)
    finally:
        await client.close()


async def test_reusing_a_connection_the_server_closed_is_a_closed_reused_error(
    stub_url: str,
) -> None:
    """The race the idle timeout avoids, and how it is reported when it happens."""
    client = Client(stub_url, timeout_s=5, idle_timeout_s=60)
    try:
        with pytest.raises(ConnectError, match=r"reused after 1\.\d+ s idle") as caught:
            await _request_after_the_server_closed_idle(client)
        assert caught.value.kind == "closed_reused"
    finally:
        await client.close()
