"""The guide's performance toolkit: ``CacheManager``, ``LatencyOptimizer``, ``MemoryProfiler``,
``Profiler`` and ``performance_profile``.

* :mod:`.cache` -- L1 memory, L2 Redis, L3 query cache, the circuit breaker, invalidation;
* :mod:`.latency_optimizer` -- gzip, request size limit, timeout and rate limiting for an ASGI
  app, ``optimize_context()``;
* :mod:`.preloading` -- hot keys warmed into L1;
* :mod:`.memory_profiler`, :mod:`.profiler`, :mod:`.decorators` -- profiling.
"""

from plexichat.core.performance.cache import CacheManager, CacheStats

__all__ = ["CacheManager", "CacheStats"]
