"""L1: byte budget, eviction policies, TTL, patterns; the circuit breaker; serialisation."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from plexichat.core.performance.cache import CircuitBreaker, MemoryCache
from plexichat.core.performance.cache.serialization import dumps, loads


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def entry_size(key: str, value: object) -> int:
    return len(key) + len(dumps(value))


def three_slot_cache(policy: str, clock: Clock | None = None) -> MemoryCache:
    # keys "a".."d" with 8-byte values: each entry is 1 + 8 = 9 bytes; room for three.
    return MemoryCache(27, 60, policy, clock=clock or Clock())  # type: ignore[arg-type]


V = b"12345678"


def test_lru_evicts_the_least_recently_used() -> None:
    cache = three_slot_cache("lru")
    for key in "abc":
        cache.set(key, V)
    cache.get("a")
    cache.set("d", V)
    assert sorted(cache.keys()) == ["a", "c", "d"]
    assert cache.evictions == 1


def test_lfu_evicts_the_least_frequently_used() -> None:
    cache = three_slot_cache("lfu")
    for key in "abc":
        cache.set(key, V)
    for _ in range(3):
        cache.get("a")
    cache.get("b")
    cache.get("c")
    cache.get("c")
    cache.set("d", V)
    assert sorted(cache.keys()) == ["a", "c", "d"]


def test_fifo_evicts_the_first_written_whatever_was_read() -> None:
    cache = three_slot_cache("fifo")
    for key in "abc":
        cache.set(key, V)
    cache.get("a")
    cache.get("a")
    cache.set("d", V)
    assert sorted(cache.keys()) == ["b", "c", "d"]


def test_size_is_the_serialised_size() -> None:
    cache = MemoryCache(1000, 60)
    data = dumps({"name": "alice", "tags": ["x"] * 10})
    cache.set("user:1", data)
    assert cache.bytes_used == len(data) + len("user:1")
    assert not cache.set("huge", b"x" * 2000)
    assert "huge" not in cache


def test_ttl_expiry_and_max_age() -> None:
    clock = Clock()
    cache = MemoryCache(1000, 60, clock=clock)
    cache.set("short", V, ttl=5)
    cache.set("long", V)
    clock.now += 4
    assert cache.get("short") == V
    assert cache.get("long", max_age=3) is None  # stored 4 s ago: too old for max_age=3
    clock.now += 2
    assert cache.get("short") is None
    assert cache.get("long") == V
    assert cache.expirations == 1


def test_pattern_delete_uses_redis_glob_syntax() -> None:
    cache = MemoryCache(10_000, 60)
    for key in ("user:1", "user:2", "user_prefs:1", "post:1"):
        cache.set(key, V)
    assert cache.delete_pattern("user:*") == 2
    assert sorted(cache.keys()) == ["post:1", "user_prefs:1"]


def test_bad_configuration_is_refused() -> None:
    with pytest.raises(ValueError, match="eviction_policy"):
        MemoryCache(10, 1, "random")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="max_size"):
        MemoryCache(0, 1)


def state(breaker: CircuitBreaker) -> str:
    """The breaker's state now (mypy would keep an attribute's narrowing across calls)."""
    return breaker.state


def test_breaker_opens_probes_and_recovers() -> None:
    clock = Clock()
    changes: list[tuple[str, str]] = []
    breaker = CircuitBreaker(
        failure_threshold=2,
        reset_timeout=1.0,
        clock=clock,
        on_change=lambda a, b: changes.append((a, b)),
    )
    assert breaker.allow()
    breaker.failure()
    assert state(breaker) == "closed"
    breaker.failure()
    assert state(breaker) == "open"
    assert not breaker.allow()
    clock.now += 1.0
    assert breaker.allow()  # the probe
    assert not breaker.allow()  # only one at a time
    breaker.failure()
    assert state(breaker) == "open"
    clock.now += 1.0
    assert breaker.allow()
    breaker.success()
    assert state(breaker) == "closed"
    assert changes == [
        ("closed", "open"),
        ("open", "half_open"),
        ("half_open", "open"),
        ("open", "half_open"),
        ("half_open", "closed"),
    ]


def test_serialisation_round_trips_without_pickle() -> None:
    value = {
        "when": datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        "raw": b"\x00\x01",
        "pair": (1, 2),
        "tags": {"a"},
        "nested": [{"x": (3,)}],
    }
    assert loads(dumps(value)) == value
    assert b"pickle" not in dumps(value)
    with pytest.raises(TypeError, match="cannot cache a object"):
        dumps(object())
