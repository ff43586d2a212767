"""Process metrics: ``process.cpu.utilization`` (gauge), ``process.memory.usage`` (up-down
counter, as the semantic conventions define it), ``plexichat.process.memory.limit`` and
``plexichat.process.workers`` (gauges): SDK observable instruments of one meter, defined in the
catalog and observed at collection time (nothing on the hot path). Being SDK instruments, they
also guarantee the SDK's collection is never empty (the limit gauge cannot fail).

In multi-worker mode they describe the instance, not the collecting worker, as the catalog's
``merge`` says: memory is the summed RSS of the live workers (pages shared after a
``--preload`` fork count once per worker, so it overstates what the cgroup charges), CPU
utilisation the sum of the live workers' (still 0..1 of the CPUs available),
``plexichat.process.workers`` how many workers are alive. The collecting worker reads every
live worker's figures from ``/proc`` by the pid that worker wrote in its slot; the slot's lock
says it is alive, so a reused pid is never read. The supervisor process (uvicorn's, gunicorn's
arbiter) is not a worker and is not counted.

CPU utilisation follows the semantic conventions: the CPU time used since the previous
observation, divided by the wall time elapsed and by the number of CPUs available to the
process (the cgroup CPU quota where one is set, else the scheduler affinity). The
"previous observation" is the last collection by any reader (Prometheus scrape or OTLP
export), so with both on, each window is the time between two consecutive collections.

The memory limit is the cgroup limit where one is set (cgroup v2 ``memory.max``, or v1
``memory.limit_in_bytes``), else the configured ``resource_limits.max_memory_usage``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable
from pathlib import Path

import psutil
from opentelemetry.metrics import CallbackOptions, Meter, Observation

from plexichat.observability.metrics.observable import observe

MIN_WINDOW_SECONDS = 1.0
_NO_LIMIT = 1 << 62  # cgroup v1 reports "no limit" as a page-aligned value near 2**63


def _read_int(path: Path) -> int | None:
    try:
        text = path.read_text().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


def cgroup_memory_limit(root: Path = Path("/sys/fs/cgroup")) -> int | None:
    """The memory limit of this process's cgroup in bytes, or ``None`` when unlimited."""
    for candidate in (root / "memory.max", root / "memory" / "memory.limit_in_bytes"):
        limit = _read_int(candidate)
        if limit is not None and limit < _NO_LIMIT:
            return limit
    return None


def available_cpus(root: Path = Path("/sys/fs/cgroup")) -> float:
    """CPUs this process may use: a cgroup quota if set, else its scheduler affinity."""
    cpus = float(len(os.sched_getaffinity(0)))
    try:
        quota, period = (root / "cpu.max").read_text().split()
        if quota != "max":
            return min(cpus, int(quota) / int(period))
    except (OSError, ValueError):
        pass
    quota_v1 = _read_int(root / "cpu" / "cpu.cfs_quota_us")
    period_v1 = _read_int(root / "cpu" / "cpu.cfs_period_us")
    if quota_v1 and period_v1:
        return min(cpus, quota_v1 / period_v1)
    return cpus


class _Window:
    """CPU-time windows of one process."""

    def __init__(self, process: psutil.Process) -> None:
        self.process = process
        # The first window starts when the process did, with no CPU used yet.
        age = time.time() - process.create_time()
        self.last: tuple[float, float] = (time.monotonic() - age, 0.0)
        self.utilization = 0.0

    def observe(self, cpus: float) -> float:
        # CPU time advances in scheduler ticks (10 ms), so a window shorter than
        # MIN_WINDOW_SECONDS would be noise (or read above 1): keep the window open and
        # report the last full window's value instead.
        times = self.process.cpu_times()
        now, cpu = time.monotonic(), float(times.user + times.system)
        last_wall, last_cpu = self.last
        elapsed = now - last_wall
        if elapsed >= MIN_WINDOW_SECONDS:
            self.last = (now, cpu)
            self.utilization = min(1.0, max(0.0, (cpu - last_cpu) / elapsed / cpus))
        return self.utilization


class ProcessMetrics:
    """Registers the process instruments on ``meter``; ``live_pids`` (multi-worker mode)
    names the live workers, whose figures are summed."""

    def __init__(
        self,
        meter: Meter,
        configured_memory_limit: int,
        live_pids: Callable[[], list[int]] | None = None,
    ) -> None:
        own = psutil.Process()
        self._live_pids = live_pids or (lambda: [own.pid])
        self._windows: dict[int, _Window] = {own.pid: _Window(own)}
        self._cpus = available_cpus()
        self._memory_limit = cgroup_memory_limit() or configured_memory_limit
        observe(meter, "process.cpu.utilization", self._cpu_utilization)
        observe(meter, "process.memory.usage", self._memory_usage)  # resident set size
        observe(meter, "plexichat.process.memory.limit", self._limit)
        observe(meter, "plexichat.process.workers", self._workers)

    def _live(self) -> list[_Window]:
        """The windows of the live workers (forgetting those of workers gone)."""
        pids = self._live_pids()
        windows = []
        for pid in pids:
            window = self._windows.get(pid)
            if window is None:
                try:
                    window = self._windows[pid] = _Window(psutil.Process(pid))
                except psutil.Error:
                    continue
            windows.append(window)
        for gone in self._windows.keys() - set(pids):
            del self._windows[gone]
        return windows

    def _cpu_utilization(self, options: CallbackOptions) -> Iterable[Observation]:
        total = 0.0
        for window in self._live():
            try:
                total += window.observe(self._cpus)
            except psutil.Error:
                continue
        yield Observation(min(1.0, total))

    def _memory_usage(self, options: CallbackOptions) -> Iterable[Observation]:
        total = 0
        for window in self._live():
            try:
                total += window.process.memory_info().rss
            except psutil.Error:
                continue
        yield Observation(total)

    def _limit(self, options: CallbackOptions) -> Iterable[Observation]:
        yield Observation(self._memory_limit)

    def _workers(self, options: CallbackOptions) -> Iterable[Observation]:
        yield Observation(len(self._live_pids()))
