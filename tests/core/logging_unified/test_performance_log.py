"""The performance logger's timers (``with`` and ``async with``) and the performance log."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from plexichat.config import load_settings
from plexichat.core.logging_unified import (
    PERFORMANCE_LOG,
    PerformanceLogger,
    configure_performance_log,
    performance_log_level,
)
from plexichat.observability.metrics.instruments import HistogramSeries
from plexichat.observability.metrics.registry import MetricRegistry
from plexichat.observability.tracing.encoding import SpanEncoder
from plexichat.observability.tracing.export import SpanExporter
from plexichat.observability.tracing.tracer import LeanTracer


def _timer_count(perf: PerformanceLogger, name: str) -> int:
    series = perf._timers.series((name,))
    assert isinstance(series, HistogramSeries)
    return series.count


async def test_timer_is_a_sync_and_an_async_context() -> None:
    perf = PerformanceLogger(MetricRegistry())
    with perf.timer("sync_block"):
        pass
    async with perf.timer("async_block"):
        pass
    assert _timer_count(perf, "sync_block") == 1
    assert _timer_count(perf, "async_block") == 1


def test_timer_records_even_when_the_block_raises() -> None:
    perf = PerformanceLogger(MetricRegistry())
    with pytest.raises(RuntimeError), perf.timer("failing"):
        raise RuntimeError("boom")
    assert _timer_count(perf, "failing") == 1


def test_timer_checks_its_name_at_the_call_site() -> None:
    with pytest.raises(ValueError, match="invalid metric name"):
        PerformanceLogger(MetricRegistry()).timer("Not Snake")


def test_log_level_from_settings_and_plexichat_log_level() -> None:
    settings = load_settings(
        environ={}, overrides={"performance": {"performance_logging_level": "WARNING"}}
    )
    assert performance_log_level(settings, {}) == "WARNING"
    assert performance_log_level(settings, {"PLEXICHAT_LOG_LEVEL": "debug"}) == "DEBUG"
    with pytest.raises(ValueError, match="PLEXICHAT_LOG_LEVEL"):
        performance_log_level(settings, {"PLEXICHAT_LOG_LEVEL": "loud"})


def test_performance_log_goes_to_the_configured_file(tmp_path: Path) -> None:
    target = tmp_path / "logs" / "performance.log"
    settings = load_settings(
        environ={}, overrides={"performance": {"performance_log_file": str(target)}}
    )
    logger = configure_performance_log(settings, {"PLEXICHAT_LOG_LEVEL": "DEBUG"})
    try:
        assert logger.level == logging.DEBUG
        logger.debug("slow_query statement=SELECT 1")
        for handler in logger.handlers:
            handler.flush()
        assert "slow_query statement=SELECT 1" in target.read_text()
    finally:
        for handler in list(PERFORMANCE_LOG.handlers):
            PERFORMANCE_LOG.removeHandler(handler)
            handler.close()


def test_lines_inside_a_sampled_span_end_with_its_trace_context(tmp_path: Path) -> None:
    target = tmp_path / "performance.log"
    settings = load_settings(
        environ={}, overrides={"performance": {"performance_log_file": str(target)}}
    )
    logger = configure_performance_log(settings, {"PLEXICHAT_LOG_LEVEL": "INFO"})
    tracer = LeanTracer(
        "parentbased_always_on",
        1.0,
        SpanExporter(SpanEncoder({}, "t", "1"), lambda payload: None, delay=3600),
    )
    try:
        logger.info("slow_query outside")
        span = tracer.server_span([], "GET", "http")
        assert span is not None
        logger.info("slow_query inside")
        tracer.finish(span)
        unsampled = tracer.server_span(
            [(b"traceparent", f"00-{'a' * 32}-{'b' * 16}-00".encode())], "GET", "http"
        )
        assert unsampled is None
        logger.info("slow_query after")
        for handler in logger.handlers:
            handler.flush()
        lines = target.read_text().splitlines()
    finally:
        for handler in list(PERFORMANCE_LOG.handlers):
            PERFORMANCE_LOG.removeHandler(handler)
            handler.close()
    assert lines[0].endswith("slow_query outside")
    assert lines[1].endswith(
        f"slow_query inside trace_id={span.trace_id:032x} span_id={span.span_id:016x}"
    )
    assert lines[2].endswith("slow_query after")
