"""Process metrics: ``process.cpu.utilization`` (gauge), ``process.memory.usage`` (up-down
counter, as the semantic conventions define it) and ``plexichat.process.memory.limit`` (gauge):
SDK observable instruments of one meter, defined in the catalog and observed at collection
time (nothing on the hot path). Being SDK instruments, they also guarantee the SDK's
collection is never empty, which is what makes its readers hand data to ours (the limit
gauge cannot fail).

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
from collections.abc import Iterable
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


class ProcessMetrics:
    """Registers the three process instruments on ``meter``."""

    def __init__(self, meter: Meter, configured_memory_limit: int) -> None:
        self._process = psutil.Process()
        self._cpus = available_cpus()
        self._memory_limit = cgroup_memory_limit() or configured_memory_limit
        # The first window starts when the process did, with no CPU used yet.
        age = time.time() - self._process.create_time()
        self._last: tuple[float, float] = (time.monotonic() - age, 0.0)
        self._utilization = 0.0
        observe(meter, "process.cpu.utilization", self._cpu_utilization)
        observe(meter, "process.memory.usage", self._memory_usage)  # resident set size
        observe(meter, "plexichat.process.memory.limit", self._limit)

    def _cpu_seconds(self) -> float:
        times = self._process.cpu_times()
        return float(times.user + times.system)

    def _cpu_utilization(self, options: CallbackOptions) -> Iterable[Observation]:
        # CPU time advances in scheduler ticks (10 ms), so a window shorter than
        # MIN_WINDOW_SECONDS would be noise (or read above 1): keep the window open and
        # report the last full window's value instead.
        now, cpu = time.monotonic(), self._cpu_seconds()
        last_wall, last_cpu = self._last
        elapsed = now - last_wall
        if elapsed >= MIN_WINDOW_SECONDS:
            self._last = (now, cpu)
            self._utilization = min(1.0, max(0.0, (cpu - last_cpu) / elapsed / self._cpus))
        yield Observation(self._utilization)

    def _memory_usage(self, options: CallbackOptions) -> Iterable[Observation]:
        yield Observation(self._process.memory_info().rss)

    def _limit(self, options: CallbackOptions) -> Iterable[Observation]:
        yield Observation(self._memory_limit)
