"""Profilers on known workloads; ``@performance_profile`` switched by the environment; slow
queries logged with their plan; the ``database_connections`` gauge."""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import create_async_engine

from plexichat.config import load_settings
from plexichat.core.logging_unified import PerformanceLogger
from plexichat.core.performance import MemoryProfiler, Profiler, performance_profile
from plexichat.core.performance.db_monitoring import ConnectionGauge, SlowQueryLog
from plexichat.observability import Telemetry, instrument_engine
from plexichat.observability.metrics.registry import MetricRegistry
from tests.support.datamodel import attributes, histogram_points


def test_profiler_counts_calls_time_and_memory() -> None:
    def leaf(i: int) -> int:
        return i * 2

    profiler = Profiler()
    profiler.start()
    kept = [leaf(i) for i in range(1000)]
    blob = bytearray(8 * 1024 * 1024)
    time.sleep(0.05)
    stats = profiler.stop()
    assert 1000 <= stats.function_calls < 1100
    assert 50 <= stats.total_time < 1000
    assert 7.5 <= stats.memory_delta <= 9
    assert "leaf" in stats.top
    assert len(kept) == 1000
    assert len(blob) > 0


def test_profiler_misuse_is_an_error() -> None:
    with pytest.raises(RuntimeError, match="before start"):
        Profiler().stop()


def test_memory_profiler_growth_rate() -> None:
    now = [0.0]
    rss = [100 * 1024 * 1024]
    profiler = MemoryProfiler(read_bytes=lambda: rss[0], clock=lambda: now[0])
    for _ in range(10):
        profiler.sample()
        now[0] += 360  # a tenth of an hour
        rss[0] += 1024 * 1024  # +1 MB each time: 10 MB/hour
    stats = profiler.get_memory_stats()
    assert stats.current_mb == 110
    assert stats.peak_mb == 110
    assert stats.growth_rate_mb_per_hour == pytest.approx(10, rel=0.01)


def test_memory_profiler_monitors_the_real_process() -> None:
    profiler = MemoryProfiler(interval_s=0.01)
    profiler.start_monitoring()
    try:
        time.sleep(0.1)
        stats = profiler.get_memory_stats()
    finally:
        profiler.stop_monitoring()
    assert 5 < stats.current_mb < 4096
    assert stats.peak_mb >= stats.current_mb
    assert stats.samples >= 3


async def test_performance_profile_only_when_switched_on(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.delenv("PLEXICHAT_PERFORMANCE_PROFILING", raising=False)

    async def untouched() -> int:
        return 1

    assert performance_profile(untouched) is untouched
    monkeypatch.setenv("PLEXICHAT_PERFORMANCE_PROFILING", "true")

    @performance_profile
    async def debug_slow_function() -> int:
        await asyncio.sleep(0.01)
        return 2

    with caplog.at_level(logging.INFO, logger="plexichat.performance"):
        assert await debug_slow_function() == 2
    [line] = [r.getMessage() for r in caplog.records if r.getMessage().startswith("profile")]
    assert (
        "function=test_performance_profile_only_when_switched_on_locals_debug_slow_function" in line
    )
    assert "total_time_ms=" in line


async def test_slow_query_logged_with_its_plan(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'slow.db'}")
    slow_log = SlowQueryLog(threshold_ms=1, explain=True)
    slow_log.attach(engine)
    perf = PerformanceLogger(MetricRegistry())
    connections = ConnectionGauge(engine, perf)
    try:
        async with engine.connect() as conn:
            await conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER)"))
            await conn.execute(text("CREATE INDEX ix_t_v ON t (v)"))
            with caplog.at_level(logging.WARNING, logger="plexichat.performance"):
                await conn.execute(
                    text(
                        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
                        "WHERE i < 200000) SELECT count(*) FROM n, t WHERE t.v = :v"
                    ),
                    {"v": 3},
                )
            gauge = perf._plain[("gauge", "database_connections")]
            assert gauge.value == 1  # type: ignore[union-attr]
    finally:
        slow_log.detach()
        connections.detach()
        await engine.dispose()
    lines = [r.getMessage() for r in caplog.records if "slow_query" in r.getMessage()]
    assert any("WITH RECURSIVE" in line for line in lines)
    [line] = [line for line in lines if "WITH RECURSIVE" in line]
    assert "duration_ms=" in line
    assert "plan=" in line
    assert "ix_t_v" in line  # SQLite's plan names the index it uses


async def test_one_listener_times_each_statement_for_metrics_and_the_slow_query_log(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The engine's statements are timed once (one listener per cursor event) for both
    db.client.operation.duration and the slow-query log; detaching both, and the connection
    gauge, leaves the engine without any listener of ours."""
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'one.db'}")
    sync = engine.sync_engine
    registry = MetricRegistry()
    telemetry = Telemetry(load_settings(environ={}), registry=registry)
    instrument_engine(engine, telemetry)
    slow_log = SlowQueryLog(threshold_ms=0, explain=False)
    slow_log.attach(engine)
    connections = ConnectionGauge(engine, PerformanceLogger(registry))
    try:
        assert len(sync.dispatch.before_cursor_execute) == 1
        assert len(sync.dispatch.after_cursor_execute) == 1
        assert len(sync.dialect.dispatch.handle_error) == 1
        with caplog.at_level(logging.WARNING, logger="plexichat.performance"):
            async with engine.connect() as conn:
                await conn.execute(text("SELECT 42"))
        [line] = [r.getMessage() for r in caplog.records if "SELECT 42" in r.getMessage()]
        logged_ms = float(line.split("duration_ms=")[1].split()[0])
        [point] = [
            p
            for p in histogram_points(registry, "db.client.operation.duration")
            if attributes(p)["db.operation.name"] == "SELECT"
        ]
        assert point.count == 1
        assert point.sum * 1000 == pytest.approx(logged_ms, abs=0.05)  # one measurement
    finally:
        slow_log.detach()
        connections.detach()
        telemetry.shutdown()
    for name in ("before_cursor_execute", "after_cursor_execute"):
        assert len(getattr(sync.dispatch, name)) == 0, name
    assert len(sync.dialect.dispatch.handle_error) == 0  # a dialect event since SQLAlchemy 2.0
    for name in ("checkout", "checkin"):
        assert len(getattr(sync.pool.dispatch, name)) == 0, name
    await engine.dispose()


async def test_a_failed_statement_is_timed_with_its_error_type_and_not_logged_slow(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """``error.type`` (a catalog attribute of db.client.operation.duration, as the semantic
    conventions have it) names the exception class of a failed statement; a success has none.
    The slow-query log leaves failures to their caller."""
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'fail.db'}")
    registry = MetricRegistry()
    telemetry = Telemetry(load_settings(environ={}), registry=registry)
    instrument_engine(engine, telemetry)
    slow_log = SlowQueryLog(threshold_ms=0, explain=False)
    slow_log.attach(engine)
    try:
        with caplog.at_level(logging.WARNING, logger="plexichat.performance"):
            async with engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
                with pytest.raises(OperationalError):
                    await conn.execute(text("SELECT * FROM no_such_table"))
        points = {
            (attributes(p)["db.operation.name"], attributes(p).get("error.type")): p.count
            for p in histogram_points(registry, "db.client.operation.duration")
        }
        assert points == {("SELECT", None): 1, ("SELECT", "OperationalError"): 1}
        assert not any("no_such_table" in r.getMessage() for r in caplog.records)
    finally:
        slow_log.detach()
        telemetry.shutdown()
        await engine.dispose()
