"""The guide's cache tiers: L1 memory, L2 Redis, L3 query results (see :mod:`.manager`)."""

from plexichat.core.performance.cache.breaker import CircuitBreaker
from plexichat.core.performance.cache.manager import CacheManager
from plexichat.core.performance.cache.memory import MemoryCache
from plexichat.core.performance.cache.query import QueryCache
from plexichat.core.performance.cache.stats import CacheStats, uncounted

__all__ = ["CacheManager", "CacheStats", "CircuitBreaker", "MemoryCache", "QueryCache", "uncounted"]
