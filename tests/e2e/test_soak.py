"""Two minutes at 200 req/s of loadgen's mix (fixed population, 5 % random unknown paths)
against the served service: after the caches warm up, memory and /metrics series stay
bounded and nothing fails. Bounds only -- no timing is asserted. The 30-minute version is
``scripts/bench soak`` (docs/benchmarks.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.soak import soak, verdict
from plexichat.config import load_settings
from tests.support.service import serving

pytestmark = pytest.mark.integration


def test_two_minutes_at_200_rps_grow_nothing(tmp_path: Path) -> None:
    env = {"PLEXICHAT_PERFORMANCE__API__RATE_LIMITING__ENABLED": "false"}
    with serving(tmp_path, env) as service:
        samples, summary = soak(
            service.url, service.process.pid, rps=200, total_s=120, segment_s=10
        )
    max_size = float(load_settings(environ={}).performance.caching.memory_cache.max_size)
    result = verdict(samples, max_size)
    assert result["ok"], (result, samples)
    assert result["series_growth"] == 0
    assert result["rss_growth"] < 0.05
    assert len(samples) >= 12
    assert summary["responses"] >= 0.99 * 200 * 120
    assert summary["operations"]["random_path"] > 0
