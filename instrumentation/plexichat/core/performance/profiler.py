"""``Profiler``: profile a stretch of code -- wall time, function calls, memory delta.

``start()`` switches on ``cProfile`` and, unless it is already on, ``tracemalloc``;
``stop()`` returns ``ProfileStats``: ``total_time`` (ms, wall clock), ``function_calls``
(calls cProfile saw, primitive and recursive), ``memory_delta`` (MB, change in memory traced by
tracemalloc: Python allocations still alive), and the top functions by cumulative time.
cProfile sees the whole thread: in async code, other tasks that run while the profiled code
awaits are counted too.
"""

from __future__ import annotations

import cProfile
import io
import pstats
import tracemalloc
from dataclasses import dataclass
from time import perf_counter

from plexichat.config.sizes import MiB


@dataclass(frozen=True)
class ProfileStats:
    """What :meth:`Profiler.stop` returns.

    Attributes:
        total_time: Wall-clock time from ``start`` to ``stop``, in milliseconds.
        function_calls: Calls cProfile saw, primitive and recursive.
        memory_delta: Change in the memory tracemalloc traces (Python allocations still alive), in
            MiB; negative when the code freed more than it kept.
        top: The ``top`` functions by cumulative time, as ``pstats`` prints them.
    """

    total_time: float
    function_calls: int
    memory_delta: float
    top: str


class Profiler:
    """The guide's manual profiler: cProfile and tracemalloc around a stretch of code.

    cProfile sees the whole thread: in async code, other tasks that run while the profiled code
    awaits are counted too. Every function call pays for the tracing: a tool for debugging, not for
    a production hot path. Run one at a time in a thread: a second profiler displaces the first or
    is refused, depending on the Python version.

    Args:
        top: How many functions ``ProfileStats.top`` lists.

    Example::

        profiler = Profiler()
        profiler.start()
        await some_operation()
        stats = profiler.stop()
        print(f"Execution time: {stats.total_time}ms")
    """

    def __init__(self, top: int = 15) -> None:
        self.top = top
        self._profile: cProfile.Profile | None = None
        self._started_tracing = False
        self._memory_before = 0
        self._start = 0.0

    def start(self) -> None:
        """Start profiling, and tracemalloc unless it is already on; ``RuntimeError`` when already
        started."""
        if self._profile is not None:
            raise RuntimeError("Profiler.start() called twice without stop()")
        if not tracemalloc.is_tracing():
            tracemalloc.start()
            self._started_tracing = True
        self._memory_before = tracemalloc.get_traced_memory()[0]
        self._profile = cProfile.Profile()
        self._start = perf_counter()
        self._profile.enable()

    def stop(self) -> ProfileStats:
        """Stop profiling (and tracemalloc, if ``start`` started it) and return what it saw;
        ``RuntimeError`` before ``start``."""
        if self._profile is None:
            raise RuntimeError("Profiler.stop() called before start()")
        self._profile.disable()
        elapsed = perf_counter() - self._start
        memory_after = tracemalloc.get_traced_memory()[0]
        if self._started_tracing:
            tracemalloc.stop()
            self._started_tracing = False
        out = io.StringIO()
        stats = pstats.Stats(self._profile, stream=out)
        stats.sort_stats("cumulative").print_stats(self.top)
        self._profile = None
        return ProfileStats(
            total_time=round(elapsed * 1000, 3),
            function_calls=int(stats.total_calls),  # type: ignore[attr-defined]
            memory_delta=round((memory_after - self._memory_before) / MiB, 3),
            top=out.getvalue(),
        )
