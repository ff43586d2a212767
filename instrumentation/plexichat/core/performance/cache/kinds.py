"""``CacheType`` and ``Tier``: the names of the cache's tiers, as its methods take them.

A leaf of the package (it imports none of it), so :mod:`.decorator` and :mod:`.manager` both
use these without importing each other.
"""

from typing import Literal

CacheType = Literal["memory", "redis", "multi"]
"""The tiers a read or write uses: ``"memory"`` (L1 only), ``"redis"`` (L2 only; L1 when Redis
is not configured), ``"multi"`` (both)."""

Tier = Literal["memory", "redis", "query", "all"]
"""What ``clear_cache`` empties: L1, L2, L3 (the query cache) or all three."""
