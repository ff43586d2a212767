"""L1: the in-process tier, bounded in bytes, with per-entry TTL and lru | lfu | fifo eviction.

Entries are stored serialised (see :mod:`.serialization`), so ``max_size`` counts what is
really held (key plus value bytes) and a caller can never mutate a cached value in place.
Expired entries are dropped when read and before anything live is evicted. Eviction:

* ``lru``  the entry read or written least recently;
* ``lfu``  the entry read or written least often (ties: the least recently used of those);
* ``fifo`` the entry written first (reads do not change the order; rewriting a key does).

Only evictions for room count as evictions; expiries are counted apart.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from fnmatch import fnmatchcase
from typing import Literal

Policy = Literal["lru", "lfu", "fifo"]


class _Entry:
    __slots__ = ("data", "expires", "hits", "size", "stored")

    def __init__(self, data: bytes, size: int, expires: float, stored: float) -> None:
        self.data = data
        self.size = size
        self.expires = expires
        self.stored = stored
        self.hits = 0


class MemoryCache:
    """A byte-bounded dictionary of serialised values."""

    def __init__(
        self,
        max_bytes: int,
        default_ttl: float,
        policy: Policy = "lru",
        *,
        clock: Callable[[], float] = time.monotonic,
        on_evict: Callable[[int], None] | None = None,
    ) -> None:
        if max_bytes < 1:
            raise ValueError(f"memory cache max_size must be at least 1 byte, got {max_bytes}")
        if policy not in ("lru", "lfu", "fifo"):
            raise ValueError(f"eviction_policy must be lru, lfu or fifo, got {policy!r}")
        self.max_bytes = max_bytes
        self.default_ttl = default_ttl
        self.policy: Policy = policy
        self._clock = clock
        self._on_evict = on_evict
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self.bytes_used = 0
        self.evictions = 0
        self.expirations = 0

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: str) -> bool:
        entry = self._entries.get(key)
        return entry is not None and entry.expires > self._clock()

    def keys(self) -> Iterator[str]:
        """The keys held now, expired ones included (a copy: safe to delete while iterating)."""
        return iter(list(self._entries))

    def get(self, key: str, max_age: float | None = None) -> bytes | None:
        """The stored bytes, or ``None`` when absent, expired, or older than ``max_age`` s."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        now = self._clock()
        if entry.expires <= now:
            self._drop(key, entry)
            self.expirations += 1
            return None
        if max_age is not None and now - entry.stored > max_age:
            return None
        entry.hits += 1
        if self.policy != "fifo":
            self._entries.move_to_end(key)
        return entry.data

    def set(self, key: str, data: bytes, ttl: float | None = None) -> bool:
        """Store ``data``; ``False`` (nothing stored) when it alone exceeds ``max_size``."""
        size = len(data) + len(key.encode())
        old = self._entries.get(key)
        if old is not None:
            self._drop(key, old)
        if size > self.max_bytes:
            return False
        self._make_room(size)
        now = self._clock()
        entry = _Entry(data, size, now + (self.default_ttl if ttl is None else ttl), now)
        if old is not None and self.policy == "lfu":
            entry.hits = old.hits
        self._entries[key] = entry
        self.bytes_used += size
        return True

    def delete(self, key: str) -> bool:
        """Drop ``key``; whether it was held (expired or not)."""
        entry = self._entries.get(key)
        if entry is None:
            return False
        self._drop(key, entry)
        return True

    def delete_pattern(self, pattern: str) -> int:
        """Delete keys matching the glob ``pattern`` (Redis ``MATCH`` syntax)."""
        doomed = [key for key in self._entries if fnmatchcase(key, pattern)]
        for key in doomed:
            self._drop(key, self._entries[key])
        return len(doomed)

    def clear(self) -> int:
        """Drop every entry; how many there were (not counted as evictions)."""
        count = len(self._entries)
        self._entries.clear()
        self.bytes_used = 0
        return count

    def _drop(self, key: str, entry: _Entry) -> None:
        del self._entries[key]
        self.bytes_used -= entry.size

    def _make_room(self, size: int) -> None:
        if self.bytes_used + size <= self.max_bytes:
            return
        now = self._clock()
        for key, entry in list(self._entries.items()):
            if entry.expires <= now:
                self._drop(key, entry)
                self.expirations += 1
        evicted = 0
        while self.bytes_used + size > self.max_bytes and self._entries:
            key = self._victim()
            self._drop(key, self._entries[key])
            evicted += 1
        if evicted:
            self.evictions += evicted
            if self._on_evict is not None:
                self._on_evict(evicted)

    def _victim(self) -> str:
        if self.policy != "lfu":
            return next(iter(self._entries))
        # Entries are in recency order, so the first with the fewest hits is the LRU of those.
        fewest = min(entry.hits for entry in self._entries.values())
        return next(key for key, entry in self._entries.items() if entry.hits == fewest)
