"""The guide's cache tiers: L1 memory, L2 Redis, L3 query results (see :mod:`.manager`)."""

from .breaker import CircuitBreaker
from .manager import CacheManager
from .memory import MemoryCache
from .query import QueryCache
from .stats import CacheStats, uncounted

__all__ = ["CacheManager", "CacheStats", "CircuitBreaker", "MemoryCache", "QueryCache", "uncounted"]
