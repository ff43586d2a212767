"""``MemoryProfiler``: the process's memory over time, for spotting leaks.

``start_monitoring()`` samples the resident set size (RSS, as ``process.memory.usage``
reports it) every ``interval_s`` seconds on a daemon thread; ``get_memory_stats()`` takes a
sample now and returns ``current_mb``, ``peak_mb`` (highest sample) and
``growth_rate_mb_per_hour`` (least-squares slope of the samples of the last ``window_s``
seconds; 0 with fewer than two). ``stop_monitoring()`` ends the thread.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import psutil

from plexichat.config.sizes import MiB


@dataclass(frozen=True)
class MemoryStats:
    """What :meth:`MemoryProfiler.get_memory_stats` returns; "MB" are MiB (2^20 bytes).

    Attributes:
        current_mb: Resident set size now.
        peak_mb: The highest sample since the profiler was created.
        growth_rate_mb_per_hour: Least-squares slope of the samples of the last ``window_s`` seconds
            (0 with fewer than two); steadily positive under a steady load suggests a leak.
        samples: Samples in that window.
    """

    current_mb: float
    peak_mb: float
    growth_rate_mb_per_hour: float
    samples: int


def _rss() -> int:
    return int(psutil.Process().memory_info().rss)


class MemoryProfiler:
    """The guide's memory profiler: samples the process's resident set size, on a daemon thread
    while monitoring, to spot leaks.

    :meth:`sample` and :meth:`get_memory_stats` may be called from any thread (the samples are
    behind a lock). It keeps ``window_s / interval_s`` samples: 3,600 with the defaults.

    Args:
        interval_s: Seconds between samples while monitoring (> 0, else ``ValueError``).
        window_s: Seconds of samples the growth rate is fitted over; older ones are dropped.
        read_bytes: Reads the figure in bytes; default the RSS from psutil (what the
            ``process.memory.usage`` metric reports).
        clock: Monotonic seconds (tests pass a fake one).

    Example::

        profiler = MemoryProfiler()
        profiler.start_monitoring()
        memory_stats = profiler.get_memory_stats()
        print(f"Growth rate: {memory_stats.growth_rate_mb_per_hour}MB/hour")
        profiler.stop_monitoring()
    """

    def __init__(
        self,
        interval_s: float = 1.0,
        window_s: float = 3600.0,
        *,
        read_bytes: Callable[[], int] = _rss,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if interval_s <= 0:
            raise ValueError(f"interval_s must be > 0, got {interval_s}")
        self.interval_s = interval_s
        self.window_s = window_s
        self._read = read_bytes
        self._clock = clock
        self._lock = threading.Lock()
        self._samples: deque[tuple[float, int]] = deque()
        self._peak = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def sample(self) -> int:
        """Take one sample now (the monitoring thread calls this too); the value in bytes."""
        now, value = self._clock(), self._read()
        with self._lock:
            self._samples.append((now, value))
            self._peak = max(self._peak, value)
            while self._samples and self._samples[0][0] < now - self.window_s:
                self._samples.popleft()
        return value

    def start_monitoring(self) -> None:
        """Sample now, then every ``interval_s`` seconds on a daemon thread until
        :meth:`stop_monitoring` (idempotent)."""
        if self._thread is not None:
            return
        self._stop.clear()
        self.sample()
        self._thread = threading.Thread(
            target=self._run, name="plexichat-memory-profiler", daemon=True
        )
        self._thread.start()

    def stop_monitoring(self) -> None:
        """Stop the sampling thread, waiting for it at most 5 s; the samples are kept and monitoring
        may start again."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            self.sample()

    def get_memory_stats(self) -> MemoryStats:
        """Take a sample now and return current, peak and growth rate; without monitoring only the
        samples these calls take count."""
        current = self.sample()
        with self._lock:
            samples = list(self._samples)
            peak = self._peak
        return MemoryStats(
            current_mb=round(current / MiB, 2),
            peak_mb=round(peak / MiB, 2),
            growth_rate_mb_per_hour=round(_slope(samples) * 3600 / MiB, 3),
            samples=len(samples),
        )


def _slope(samples: list[tuple[float, int]]) -> float:
    """Least-squares bytes per second."""
    if len(samples) < 2:
        return 0.0
    n = len(samples)
    mean_t = sum(t for t, _ in samples) / n
    mean_v = sum(v for _, v in samples) / n
    var = sum((t - mean_t) ** 2 for t, _ in samples)
    if var == 0:
        return 0.0
    return sum((t - mean_t) * (v - mean_v) for t, v in samples) / var
