"""loadgen: the open-loop runner in-process, and a short run against a real uvicorn server."""

from __future__ import annotations

import asyncio
import json
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from plexichat.cli import main
from plexichat.loadgen import LoadConfig, run_async
from plexichat.loadgen.identities import address, headers
from plexichat.loadgen.report import percentile
from tests.support.service import serving
from tests.support.tools import free_port


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    """``plexichat-obs serve`` in a subprocess on a free loopback port; its base URL."""
    with serving(tmp_path) as service:
        yield service.url
    # uvicorn shuts down gracefully, then re-raises SIGTERM so the exit status tells the signal
    assert service.returncode in (0, -signal.SIGTERM), service.output
    assert "Application shutdown complete" in service.output, service.output


def test_short_run_against_a_real_server(server: str, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["loadgen", "--url", server, "--duration", "2", "--rps", "50"]
    assert main([*argv, "--seed", "0", "--identities", "10", "--json"]) == 0
    captured = capsys.readouterr()
    summary = json.loads(captured.out)
    assert summary["target_rps"] == 50
    assert summary["sent"] + summary["dropped"] == 100
    assert 45 <= summary["achieved_rps"] <= 55
    assert summary["status_classes"]["2xx"] >= 90
    assert summary["status_classes"]["4xx"] >= 1  # seed 0 draws an unknown user and a bad body
    assert summary["status_classes"].get("5xx", 0) == 0
    assert summary["connection_errors"] == 0
    assert summary["latency_ms"]["p50"] <= summary["latency_ms"]["p99"]
    assert "sent" in captured.err  # progress lines, once a second


def test_unreachable_server_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    assert main(["loadgen", "--url", url, "--duration", "0.5", "--rps", "20"]) == 1
    out = capsys.readouterr().out
    assert "connection 10" in out


async def test_arrivals_keep_their_rate_when_the_server_stalls() -> None:
    async def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            return httpx.Response(201, json={"id": 1})
        await asyncio.sleep(0.5)
        return httpx.Response(200, json=[])

    config = LoadConfig(url="http://stub", duration_s=1.0, rps=100, users=2, max_in_flight=5)
    started = time.monotonic()
    summary = await run_async(config, transport=httpx.MockTransport(handler))
    elapsed = time.monotonic() - started
    assert summary.sent + summary.dropped == 100
    assert summary.dropped > 50  # the cap was hit; arrivals were dropped, not delayed
    assert elapsed < 2.0


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50.0
    assert percentile(values, 99) == 99.0
    assert percentile(values, 100) == 100.0
    assert percentile([], 50) == 0.0


def test_identities_are_distinct_private_addresses() -> None:
    assert address(0) == "10.0.0.0"
    assert address(258) == "10.0.1.2"
    assert address(2**24 - 1) == "10.255.255.255"
    import random

    rng = random.Random(0)
    seen = {headers(rng, 4)["X-Forwarded-For"] for _ in range(200)}
    assert seen == {"10.0.0.0", "10.0.0.1", "10.0.0.2", "10.0.0.3"}
    assert headers(rng, 0) == {}
