"""``plexichat-obs up`` in a subprocess for the end-to-end tests: free ports, a temporary state
directory, its output in ``up.log``; helpers to wait for alerts and notifications; a stop that
proves no child process and no port is left behind."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import httpx
import pytest

from plexichat.stack.layout import StackDir
from plexichat.stack.ports import bound
from plexichat.stack.prometheus_api import PrometheusAPI
from plexichat.stack.state import StackState
from tests.support.tools import require_tool

STARTUP_S = 90.0


def wait_for(predicate: Callable[[], Any], timeout_s: float, what: str) -> Any:
    """Poll ``predicate`` until it returns something true; that value."""
    deadline = time.monotonic() + timeout_s
    while True:
        with contextlib.suppress(httpx.HTTPError):
            result = predicate()
            if result:
                return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s:.0f} s waiting for {what}")
        time.sleep(0.5)


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (exited, not yet reaped by its parent) counts as gone.
    with contextlib.suppress(OSError):
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[0] != "Z"
    return True


class Stack:
    """A running ``plexichat-obs up``."""

    def __init__(self, home: Path, args: Sequence[str], env: dict[str, str] | None = None) -> None:
        for tool in (
            "redis-server",
            "prometheus-redis-exporter",
            "prometheus",
            "prometheus-alertmanager",
        ):
            require_tool(tool)
        self.home = home
        self.dir = StackDir(home / "stack")
        self.log = home / "up.log"
        environ = {k: v for k, v in os.environ.items() if not k.startswith(("PLEXICHAT_", "OTEL_"))}
        environ.update(env or {})
        command = [sys.executable, "-m", "plexichat.cli", "up", "--dir", str(self.dir.root)]
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                [*command, "--ports", "auto", *args],
                stdout=out,
                stderr=subprocess.STDOUT,
                env=environ,
                cwd=home,
            )
        self.state: StackState = self._wait_started()
        self.prometheus = PrometheusAPI(self.state.prometheus_url)

    @property
    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def _wait_started(self) -> StackState:
        deadline = time.monotonic() + STARTUP_S
        while not self.dir.state.exists():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                pytest.fail(f"plexichat-obs up did not start:\n{self.output}")
            time.sleep(0.2)
        return StackState.from_json(self.dir.state.read_text())

    def cli(self, *args: str, timeout_s: float = 60) -> subprocess.CompletedProcess[str]:
        """``plexichat-obs ARGS`` against this stack (its --dir added)."""
        return subprocess.run(
            [sys.executable, "-m", "plexichat.cli", *args, "--dir", str(self.dir.root)],
            capture_output=True,
            text=True,
            timeout=timeout_s,
            check=False,
        )

    def alerts(self, name: str) -> list[dict[str, Any]]:
        return [a for a in self.prometheus.alerts() if a["labels"]["alertname"] == name]

    def alertmanager_alerts(self) -> list[dict[str, Any]]:
        response = httpx.get(f"{self.state.alertmanager_url}/api/v2/alerts", timeout=5)
        response.raise_for_status()
        alerts: list[dict[str, Any]] = response.json()
        return alerts

    def notifications(self) -> list[dict[str, Any]]:
        text = self.dir.notifications.read_text(encoding="utf-8")
        return [json.loads(line) for line in text.splitlines() if line.strip()]

    def notified(self, alertname: str, status: str, **labels: str) -> list[dict[str, Any]]:
        return [
            n
            for n in self.notifications()
            if n["alertname"] == alertname
            and n["status"] == status
            and all(n["labels"].get(k) == v for k, v in labels.items())
        ]

    def children(self) -> dict[int, list[str]]:
        """PID -> argv of every running process ``up`` started (its direct children)."""
        found = {}
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            with contextlib.suppress(OSError, IndexError):
                stat = (entry / "stat").read_text()
                if int(stat.rsplit(")", 1)[1].split()[1]) == self.process.pid:
                    argv = (entry / "cmdline").read_bytes().rstrip(b"\0").split(b"\0")
                    found[int(entry.name)] = [a.decode(errors="replace") for a in argv]
        return found

    def config_file(self, component: str) -> Path:
        """The configuration file ``up`` wrote for ``prometheus`` or ``alertmanager``."""
        return self.dir.component(component) / f"{component}.yml"

    def reload(self, component: str) -> httpx.Response:
        """``POST /-/reload`` to ``prometheus`` or ``alertmanager``: it re-reads its files (rule
        files too), or answers 500 saying why it rejects them and keeps what it had."""
        url = self.state.components[component].url
        assert url is not None
        return httpx.post(f"{url}/-/reload", timeout=30)

    def signal_component(self, name: str, signum: int) -> None:
        """Send ``signum`` to one child of the stack (SIGSTOP freezes it, SIGCONT resumes)."""
        pid = self.state.components[name].pid
        assert pid is not None
        os.kill(pid, signum)

    def stop(self) -> int:
        """SIGTERM ``up``; its exit status, after checking nothing it started is left."""
        pids = []
        with contextlib.suppress(FileNotFoundError, ValueError):
            state = StackState.from_json(self.dir.state.read_text())
            pids = [c.pid for c in state.components.values() if c.pid is not None]
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            status = self.process.wait(timeout=90)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise
        with contextlib.suppress(AttributeError):
            self.prometheus.close()
        left = [pid for pid in pids if pid_alive(pid)]
        assert left == [], f"children left running: {left}\n{self.output}"
        return status

    def ports_bound(self) -> list[str]:
        return [
            url
            for url in (
                self.state.prometheus_url,
                self.state.alertmanager_url,
                self.state.service_url,
                *(c.url for c in self.state.components.values() if c.url),
            )
            if url.startswith(("http://", "redis://"))
            and bound(int(url.split(":")[2].split("/")[0]))
        ]
