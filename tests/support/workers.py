"""Multi-worker servers under load, for the end-to-end tests: start a real server (uvicorn,
gunicorn or ``plexichat-obs serve``) with N workers, drive it, scrape it, kill its workers."""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psutil
import pytest

from tests.support.processes import stop
from tests.support.scrape import samples
from tests.support.service import service_environment

MONOTONIC = ("_total", "_bucket", "_count", "_sum")
Sample = tuple[str, tuple[tuple[str, str], ...]]


@dataclass
class Server:
    url: str
    process: subprocess.Popen[bytes]
    metrics_dir: Path
    log: Path

    def workers(self) -> list[psutil.Process]:
        """The live worker processes (children of the master, its helpers aside); none once
        the master is gone."""
        for _ in range(10):  # a child may go while being listed: look again
            try:
                children = psutil.Process(self.process.pid).children()
            except psutil.NoSuchProcess:
                return []
            except psutil.Error:
                continue
            break
        else:
            return []
        out = []
        for child in children:
            try:
                if child.status() != psutil.STATUS_ZOMBIE and "resource_tracker" not in " ".join(
                    child.cmdline()
                ):
                    out.append(child)
            except psutil.Error:
                continue  # gone (or going) between the listing and the look
        return out

    def leader(self) -> int:
        return int((self.metrics_dir / "leader.lock").read_text().split()[0])

    def slot_files(self) -> list[str]:
        return sorted(p.name for p in self.metrics_dir.glob("slot-*.db"))


def wait_for(predicate: Callable[[], object], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.05)


def _answers(url: str) -> bool:
    """Whether the server answers HTTP (on an excluded path: the probe counts in no metric)."""
    try:
        httpx.get(f"{url}/healthz", timeout=1)
    except httpx.TransportError:
        return False
    return True


@contextmanager
def serving(
    command: Sequence[str],
    home: Path,
    port: int,
    workers: int,
    env: Mapping[str, str] | None = None,
) -> Iterator[Server]:
    """Run ``command`` (listening on ``port``) with the multiprocess directory under ``home``
    (none for ``workers=0``: one process, no multi-worker mode); wait until ``workers``
    workers run and it answers; SIGTERM it on exit."""
    home.mkdir(parents=True, exist_ok=True)
    metrics_dir = home / "metrics"
    shared = {"PLEXICHAT_PERFORMANCE__OBSERVABILITY__MULTIPROCESS_DIR": str(metrics_dir)}
    environment = service_environment(home, {**(shared if workers else {}), **(env or {})})
    log = home / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            list(command), env=environment, stdout=out, stderr=subprocess.STDOUT, cwd=Path.cwd()
        )
    server = Server(f"http://127.0.0.1:{port}", process, metrics_dir, log)
    try:
        wait_for(lambda: process.poll() is None and _answers(server.url), 30, "the server")
        wait_for(lambda: len(server.workers()) >= workers, 30, f"{workers} workers")
        wait_for(lambda: len(server.slot_files()) >= workers, 30, f"{workers} slots")
        yield server
    except BaseException:
        print(log.read_text(errors="replace"))
        raise
    finally:
        stop(process, timeout=20)


@dataclass
class Load:
    """Threads sending requests, each on a new connection; counts what the client saw."""

    url: str
    paths: Sequence[str]
    pause_s: float = 0.01
    seen: Counter[str] = field(default_factory=Counter)  # route template -> responses
    failed: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> None:
        for path in self.paths:
            thread = threading.Thread(target=self._drive, args=(path,), daemon=True)
            thread.start()
            self._threads.append(thread)

    def _drive(self, path: str) -> None:
        route = "/hello/{name}" if path.startswith("/hello/") else path
        # a new connection per request (no keep-alive), without a new client's set-up cost
        # (httpx.get builds an SSL context each time: tens of ms on a busy machine)
        limits = httpx.Limits(max_keepalive_connections=0)
        with httpx.Client(limits=limits, timeout=10) as client:
            while not self._stop.is_set():
                try:
                    status = client.get(f"{self.url}{path}").status_code
                except httpx.TransportError:
                    with self._lock:
                        self.failed += 1
                    continue
                with self._lock:
                    self.seen[f"{route} {status}"] += 1
                time.sleep(self.pause_s)

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join()


@dataclass
class Scraper:
    """Scrapes ``/metrics`` every ``every_s`` on a new connection, keeping every scrape."""

    url: str
    every_s: float = 0.2
    scrapes: list[dict[Sample, float]] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def scrape(self) -> dict[Sample, float]:
        text = httpx.get(f"{self.url}/metrics", timeout=10).text
        return {(name, tuple(sorted(labels.items()))): v for name, labels, v in samples(text)}

    def _run(self) -> None:
        while not self._stop.wait(self.every_s):
            try:
                self.scrapes.append(self.scrape())
            except httpx.TransportError:
                continue  # the worker that accepted the connection was killed

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def decreases(self) -> list[str]:
        """Every counter, bucket, _count and _sum sample that went down between two scrapes."""
        found = []
        last: dict[Sample, float] = {}
        for index, scrape in enumerate(self.scrapes):
            for sample, value in scrape.items():
                if not sample[0].endswith(MONOTONIC):
                    continue
                before = last.get(sample)
                if before is not None and value < before:
                    found.append(f"scrape {index}: {sample} {before} -> {value}")
                last[sample] = value
        return found

    def lowest(self, name: str) -> float:
        """The lowest value of ``name`` over all scrapes (any labels)."""
        return min(
            (v for scrape in self.scrapes for (n, _), v in scrape.items() if n == name),
            default=0.0,
        )


def total(scrape: Mapping[Sample, float], name: str, **labels: str) -> float:
    return sum(
        v for (n, ls), v in scrape.items() if n == name and labels.items() <= dict(ls).items()
    )


def responses_per_route(load: Load) -> dict[str, int]:
    out: Counter[str] = Counter()
    for key, count in load.seen.items():
        out[key.rsplit(" ", 1)[0]] += count
    return dict(out)


def kill(pid: int, sig: int) -> None:
    os.kill(pid, sig)
