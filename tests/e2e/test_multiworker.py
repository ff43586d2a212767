"""Real multi-worker servers under load: every scrape of any worker is the exact merge.

``uvicorn --workers 4`` and ``gunicorn -k uvicorn_worker.UvicornWorker -w 4`` (recycling
workers with ``--max-requests``) serve the README's example app; workers are SIGKILLed and
SIGTERMed mid-run while ``/metrics`` is scraped every 200 ms on new connections.
"""

from __future__ import annotations

import signal
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.support.otlp_receiver import HttpReceiver
from tests.support.tools import free_port
from tests.support.workers import (
    Load,
    Scraper,
    Server,
    kill,
    responses_per_route,
    serving,
    total,
    wait_for,
)

pytestmark = pytest.mark.integration

APP = "tests.support.example_app:app"
PATHS = ["/hello/a", "/hello/b", "/slow", "/hello/c", "/slow"]
COUNT = "http_server_request_duration_seconds_count"
ACTIVE = "http_server_active_requests"


class Exports:
    """When OTLP metric exports arrived (polled every 20 ms)."""

    def __init__(self, receiver: HttpReceiver) -> None:
        self.receiver = receiver
        self.times: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        seen = 0
        while not self._stop.wait(0.02):
            now = len(self.receiver.received.metrics)
            self.times.extend([time.monotonic()] * (now - seen))
            seen = now

    def between(self, start: float, end: float) -> int:
        return sum(start <= t < end for t in self.times)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def check_quiet_totals(server: Server, load: Load, scraper: Scraper) -> None:
    """Once the load stopped: counts per route are what the client saw, nothing in flight."""
    final = scraper.scrape()
    for route, responses in responses_per_route(load).items():
        assert total(final, COUNT, http_route=route) == responses, route
    assert total(final, ACTIVE) == 0
    assert scraper.lowest(ACTIVE) >= 0
    assert scraper.decreases() == []


def second_port_count(url: str) -> float | None:
    """The merged request count as the extra metrics port serves it (``None``: not served)."""
    try:
        return total(Scraper(url).scrape(), COUNT)
    except httpx.TransportError:
        return None


def test_uvicorn_workers_killed_and_terminated(tmp_path: Path, receiver: HttpReceiver) -> None:
    port, metrics_port = free_port(), free_port()
    command = [sys.executable, "-m", "uvicorn", APP, "--workers", "4", "--port", str(port)]
    env = {
        "PLEXICHAT_PERFORMANCE__OBSERVABILITY__OTLP__ENDPOINT": receiver.endpoint,
        "PLEXICHAT_PERFORMANCE__OBSERVABILITY__OTLP__TIMEOUT_SECONDS": "1",
        "PLEXICHAT_PERFORMANCE__METRICS_COLLECTION_INTERVAL": "1",
        # the extra port: bound by one worker (the others would fail with "address in use")
        "PLEXICHAT_PERFORMANCE__METRICS__EXPORTERS__PROMETHEUS__PORT": str(metrics_port),
    }
    metrics_url = f"http://127.0.0.1:{metrics_port}"
    with serving(command, tmp_path, port, 4, env) as server:
        scraper, load, exports = Scraper(server.url), Load(server.url, PATHS), Exports(receiver)
        started = time.monotonic()
        scraper.start()
        load.start()
        try:
            time.sleep(3)
            assert (second_port_count(metrics_url) or 0) > 0  # the merged view, from the leader
            leader = server.leader()
            killed_at = time.monotonic()
            kill(leader, signal.SIGKILL)
            # one exporter per interval before; a new one within two intervals after
            assert exports.between(started + 1, killed_at) <= (killed_at - started - 1) + 1
            wait_for(lambda: exports.between(killed_at + 0.1, 1e12) >= 1, 2.5, "a new exporter")
            assert server.leader() != leader
            wait_for(lambda: second_port_count(metrics_url), 3, "the extra port served again")
            wait_for(lambda: len(server.workers()) == 4, 15, "the killed worker's successor")
            time.sleep(1)
            kill(next(w.pid for w in server.workers() if w.pid != server.leader()), signal.SIGTERM)
            time.sleep(2)
        finally:
            load.stop()
        wait_for(lambda: len(server.workers()) == 4, 15, "four workers again")
        time.sleep(1)
        scraper.stop()
        exports.stop()
        check_quiet_totals(server, load, scraper)
        assert len(scraper.scrapes) >= 10  # every 200 ms, fewer on a busy machine
        assert len(server.slot_files()) <= 5
    counts = [
        sum(p.count for p in m.histogram.data_points)
        for request in receiver.received.metrics
        for rm in request.resource_metrics
        for sm in rm.scope_metrics
        for m in sm.metrics
        if m.name == "http.server.request.duration"
    ]
    assert counts == sorted(counts)  # the cumulative stream never went back, leader or not


def test_gunicorn_workers_recycled_killed_and_terminated(tmp_path: Path) -> None:
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "-k",
        "uvicorn_worker.UvicornWorker",
        "-w",
        "4",
        "--max-requests",
        "50",
        "--max-requests-jitter",
        "10",
        "-b",
        f"127.0.0.1:{port}",
        APP,
    ]
    with serving(command, tmp_path, port, 4) as server:
        scraper, load = Scraper(server.url), Load(server.url, PATHS)
        pids: set[int] = set()
        stop = threading.Event()

        def watch() -> None:
            while not stop.wait(0.02):
                pids.update(w.pid for w in server.workers())

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        scraper.start()
        load.start()
        try:
            # generous limits: recycles come with requests, fewer on a busy machine
            wait_for(lambda: len(pids) >= 10, 60, "some recycles")
            kill(server.workers()[0].pid, signal.SIGKILL)
            wait_for(lambda: len(pids) >= 17, 60, "more recycles")
            kill(server.workers()[0].pid, signal.SIGTERM)
            wait_for(lambda: len(pids) >= 4 + 20, 60, "twenty recycles")
        finally:
            load.stop()
            try:
                wait_for(lambda: len(server.workers()) == 4, 30, "four workers")
                time.sleep(1)
            finally:
                stop.set()
                watcher.join()
                scraper.stop()
        check_quiet_totals(server, load, scraper)
        assert len(server.slot_files()) <= 5


def test_gunicorn_preload_workers_draw_distinct_trace_ids(
    tmp_path: Path, receiver: HttpReceiver
) -> None:
    """Forked workers draw distinct ids, and recycled ones send their last spans as they go."""
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "--preload",
        "-k",
        "uvicorn_worker.UvicornWorker",
        "-w",
        "4",
        "--max-requests",
        "40",
        "--max-requests-jitter",
        "10",
        "-b",
        f"127.0.0.1:{port}",
        APP,
    ]
    env = {
        "PLEXICHAT_PERFORMANCE__OBSERVABILITY__OTLP__ENDPOINT": receiver.endpoint,
        "PLEXICHAT_PERFORMANCE__OBSERVABILITY__TRACING__SAMPLER": "always_on",
        # the arbiter built the app: its OTLP reader ticks there too, and must claim no slot
        "PLEXICHAT_PERFORMANCE__METRICS_COLLECTION_INTERVAL": "1",
    }
    with serving(command, tmp_path, port, 4, env) as server:
        load = Load(server.url, ["/hello/a", "/hello/b", "/hello/c", "/hello/d"], pause_s=0)
        load.start()
        time.sleep(2)
        load.stop()
        served = sum(load.seen.values())

        def server_spans() -> list[bytes]:
            return [s.trace_id for s in receiver.received.spans() if s.kind == 2]

        wait_for(lambda: len(server_spans()) >= served, 30, "every request's span")
        scraper = Scraper(server.url)
        # a scrape counts toward --max-requests too: one may land while a recycled worker's
        # successor is still starting (3 alive), so look until all four serve again
        wait_for(
            lambda: total(scraper.scrape(), "plexichat_process_workers") == 4, 30, "four workers"
        )
        assert total(scraper.scrape(), COUNT) == served
    trace_ids = server_spans()
    assert len(trace_ids) == served  # each request traced once, recycled workers' too
    assert len(set(trace_ids)) == len(trace_ids)  # and no two workers drew the same id
    assert len(server.slot_files()) == 4  # the master claimed none: it serves nothing
