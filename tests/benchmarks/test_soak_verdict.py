"""``benchmarks.soak.verdict``: where warm-up ends, from samples as ``soak`` takes them (one
before the load, one per segment under it, one after it ended)."""

from __future__ import annotations

from benchmarks.soak import Sample, verdict

MiB = 1 << 20


def _run(cache: list[float], rss_mib: list[float]) -> list[Sample]:
    return [
        Sample(10.0 * i, int(r * MiB), 810, c, 0)
        for i, (c, r) in enumerate(zip(cache, rss_mib, strict=True))
    ]


def test_a_cache_still_filling_is_not_taken_as_settled_by_the_sample_after_the_load() -> None:
    filling = _run(
        [4830, 15915, 22325, 26470, 29636, 37194, 37194], [96, 101, 101, 102, 102, 103, 103]
    )
    result = verdict(filling, max_cache_bytes=1e9)
    assert result["warm_up_sample"] is None
    assert result["why"] == "the caches never stopped growing"


def test_warm_up_ends_where_the_cache_settles_under_load() -> None:
    settles = _run([4830, 60000, 70000, 70100, 70200, 70200], [96, 100, 101, 101, 101, 101])
    result = verdict(settles, max_cache_bytes=1e9)
    assert result["warm_up_sample"] == 3
    assert result["ok"], result


def test_a_named_warm_up_ends_at_the_first_sample_that_late_and_the_bounds_hold_after_it() -> None:
    grows = _run(
        [4830, 15915, 22325, 26470, 29636, 37194, 37194], [96, 100, 101, 101, 108, 110, 110]
    )
    result = verdict(grows, max_cache_bytes=1e9, warm_up_s=30)
    assert result["warm_up_sample"] == 3
    assert not result["ok"]
    assert result["why"] == "RSS grew 8.9% after warm-up"
    assert verdict(grows, max_cache_bytes=30000, warm_up_s=30)["why"].count("cache reached") == 1
