"""The guide's resource settings take effect: open files (the served process's soft limit, an
error above the hard limit) and the threads blocking calls run on."""

from __future__ import annotations

import asyncio
import resource
import subprocess
import sys
import threading
from pathlib import Path

from fastapi import FastAPI

from plexichat.config import load_settings
from plexichat.service import create_app
from tests.service.conftest import RecordingMetrics
from tests.support.service import service_environment, serving


def _soft_open_files(pid: int) -> int:
    for line in Path(f"/proc/{pid}/limits").read_text().splitlines():
        if line.startswith("Max open files"):
            return int(line.split()[3])
    raise AssertionError("no open-files line")


def test_the_served_process_has_max_open_files_as_its_soft_limit(tmp_path: Path) -> None:
    env = {"PLEXICHAT_PERFORMANCE__RESOURCE_LIMITS__MAX_OPEN_FILES": "777"}
    with serving(tmp_path, env) as service:
        assert _soft_open_files(service.process.pid) == 777


def test_max_open_files_above_the_hard_limit_is_an_error_naming_the_key(tmp_path: Path) -> None:
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    env = service_environment(
        tmp_path, {"PLEXICHAT_PERFORMANCE__RESOURCE_LIMITS__MAX_OPEN_FILES": str(hard + 1)}
    )
    done = subprocess.run(
        [sys.executable, "-m", "plexichat.cli", "serve", "--port", "1"],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert "performance.resource_limits.max_open_files" in done.stderr
    assert f"hard limit of {hard}" in done.stderr


async def test_blocking_calls_run_on_thread_pool_size_threads(data_dir: Path) -> None:
    settings = load_settings(
        environ={},
        overrides={
            "service": {"data_dir": str(data_dir)},
            "performance": {"monitoring_enabled": False, "async_settings": {"thread_pool_size": 3}},
        },
    )
    app: FastAPI = create_app(settings, metrics=RecordingMetrics())
    running = 0
    most = 0
    lock = threading.Lock()
    release = threading.Event()

    def blocking() -> None:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        release.wait(10)
        with lock:
            running -= 1

    async with app.router.lifespan_context(app):
        calls = [asyncio.ensure_future(asyncio.to_thread(blocking)) for _ in range(8)]
        while True:  # wait until the pool is full (bounded by the calls' own 10 s wait)
            with lock:
                if running == 3:
                    break
            await asyncio.sleep(0.01)
        with lock:
            assert running == 3  # the other five wait for a thread
        release.set()
        await asyncio.gather(*calls)
    assert most == 3
