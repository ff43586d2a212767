"""``plexichat-obs serve --workers N``: the real service in N worker processes."""

from __future__ import annotations

import signal
import socket
import sqlite3
import sys
import time
from pathlib import Path

import httpx
import psutil
import pytest

from plexichat.service.seed import DEMO_USERS
from tests.support.redis_server import RedisServer
from tests.support.tools import free_port
from tests.support.workers import Scraper, serving, total, wait_for

pytestmark = pytest.mark.integration


def test_serve_workers_prepare_once_and_merge(tmp_path: Path, redis_server: RedisServer) -> None:
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "plexichat.cli",
        "serve",
        "--workers",
        "3",
        "--port",
        str(port),  # a command-line override the workers must see too
    ]
    env = {
        "PLEXICHAT_PERFORMANCE__CACHING__REDIS_CACHE__ENABLED": "true",
        "PLEXICHAT_PERFORMANCE__CACHING__REDIS_CACHE__PORT": str(redis_server.port),
        "PLEXICHAT_PERFORMANCE__API__RATE_LIMITING__ENABLED": "false",
    }
    with serving(command, tmp_path, port, 3, env) as server:
        for _ in range(30):  # new connections: the kernel spreads them over the workers
            assert httpx.get(f"{server.url}/api/users/1").status_code == 200
        created = httpx.post(
            f"{server.url}/api/users", json={"username": "zed", "display_name": "Zed"}
        )
        assert created.status_code == 201
        wait_for(lambda: len(server.slot_files()) == 3, 10, "three slots")
        scrape = Scraper(server.url).scrape()
        route = "/api/users/{user_id}"
        assert total(scrape, "http_server_request_duration_seconds_count", http_route=route) == 30
        assert total(scrape, "plexichat_process_workers") == 3
        assert total(scrape, "plexichat_user_registrations_total") == 1
    with sqlite3.connect(tmp_path / "data" / "plexichat.db") as db:
        (users,) = db.execute("SELECT count(*) FROM users").fetchone()
    assert users == len(DEMO_USERS) + 1  # seeded once, not once per worker


def _port_free(port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


@pytest.mark.parametrize("first", [None, signal.SIGTERM], ids=["sigkill", "sigterm-then-sigkill"])
def test_workers_follow_a_killed_parent(
    tmp_path: Path, redis_server: RedisServer, first: signal.Signals | None
) -> None:
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "plexichat.cli",
        "serve",
        "--workers",
        "4",
        "--port",
        str(port),
    ]
    env = {
        "PLEXICHAT_PERFORMANCE__CACHING__REDIS_CACHE__ENABLED": "true",
        "PLEXICHAT_PERFORMANCE__CACHING__REDIS_CACHE__PORT": str(redis_server.port),
    }
    with serving(command, tmp_path, port, 4, env) as server:
        workers = server.workers()
        assert len(workers) == 4
        if first is not None:  # the parent is killed before it passed the SIGTERM on
            server.process.send_signal(first)
            time.sleep(0.3)
        server.process.kill()
        server.process.wait()
        killed = time.monotonic()
        wait_for(lambda: _port_free(port), 2, "the port to be free")  # from the kill
        wait_for(lambda: not any(map(_running, workers)), killed + 2 - time.monotonic(), "exit")
        assert time.monotonic() - killed < 2


def _running(process: psutil.Process) -> bool:
    """Whether ``process`` still runs (an orphan that exited stays a zombie until its new parent
    reaps it: it holds no port and runs no code)."""
    try:
        return process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
