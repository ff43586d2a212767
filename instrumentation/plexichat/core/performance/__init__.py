"""The guide's performance toolkit: ``CacheManager``, ``LatencyOptimizer``, ``MemoryProfiler``,
``Profiler`` and ``performance_profile``.

* :mod:`.cache` -- L1 memory, L2 Redis (the owner of the Redis keyspace), L3 query cache, the
  circuit breaker, invalidation, preloading of hot keys into L1;
* :mod:`.latency_optimizer` and :mod:`.middleware` -- rate limiting, request size limit,
  timeout and gzip for an ASGI app; ``optimize_context()``;
* :mod:`.memory_profiler`, :mod:`.profiler`, :mod:`.decorators` -- profiling;
* :mod:`.db_monitoring` -- slow statements to the performance log with their plan; the
  ``database_connections`` gauge.
"""

try:
    import redis  # noqa: F401
    import sqlalchemy  # noqa: F401
except ImportError as missing:  # pragma: no cover - depends on the installed extras
    raise ImportError(
        f"plexichat.core.performance needs the 'toolkit' extra ({missing.name} is missing): "
        "pip install 'plexichat-observability[toolkit]'"
    ) from missing

from plexichat.core.performance.cache import CacheManager, CacheStats
from plexichat.core.performance.decorators import performance_profile
from plexichat.core.performance.latency_optimizer import LatencyOptimizer
from plexichat.core.performance.memory_profiler import MemoryProfiler, MemoryStats
from plexichat.core.performance.profiler import Profiler, ProfileStats

__all__ = [
    "CacheManager",
    "CacheStats",
    "LatencyOptimizer",
    "MemoryProfiler",
    "MemoryStats",
    "ProfileStats",
    "Profiler",
    "performance_profile",
]
