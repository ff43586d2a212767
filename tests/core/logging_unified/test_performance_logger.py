"""The guide's performance logger, read back through the registry it records into."""

from __future__ import annotations

import asyncio

import pytest
from opentelemetry.sdk.metrics.export import Histogram
from opentelemetry.util.types import AnyValue

from plexichat.core.logging_unified import PerformanceLogger, get_performance_logger
from plexichat.observability.metrics.registry import DEFAULT_REGISTRY, MetricRegistry
from tests.support.datamodel import attributes, histogram_points, metrics, values


def points(registry: MetricRegistry, name: str) -> dict[tuple[tuple[str, AnyValue], ...], float]:
    """Values by sorted attributes; a histogram's count."""
    metric = metrics(registry)[name]
    if isinstance(metric.data, Histogram):
        return {
            tuple(sorted(attributes(p).items())): p.count for p in histogram_points(registry, name)
        }
    return values(registry, name)


def test_counter_gauge_histogram_map_to_plexichat_names() -> None:
    registry = MetricRegistry()
    perf = PerformanceLogger(registry)
    perf.increment_counter("messages_sent")
    perf.increment_counter("messages_sent", 2)
    perf.increment_counter("page_views", route="users")
    perf.record_gauge("active_users", 150)
    perf.record_gauge("active_users", 120)
    perf.record_histogram("response_size", 2048)
    assert points(registry, "plexichat.messages_sent") == {(): 3}
    assert points(registry, "plexichat.page_views") == {(("route", "users"),): 1}
    assert points(registry, "plexichat.active_users") == {(): 120}
    assert points(registry, "plexichat.response_size") == {(): 1}


async def test_timers_record_operation_duration() -> None:
    registry = MetricRegistry()
    perf = PerformanceLogger(registry)

    @perf.time_function
    async def slow_operation() -> int:
        await asyncio.sleep(0)
        return 7

    @perf.time_function
    def sync_operation() -> int:
        return 8

    assert await slow_operation() == 7
    assert sync_operation() == 8
    with perf.timer("custom_operation"):
        pass
    perf.record_timer("image_processing_time", 0.25)
    counts = points(registry, "plexichat.operation.duration")
    assert counts == {
        (("operation", "test_timers_record_operation_duration_locals_slow_operation"),): 1,
        (("operation", "test_timers_record_operation_duration_locals_sync_operation"),): 1,
        (("operation", "custom_operation"),): 1,
        (("operation", "image_processing_time"),): 1,
    }


@pytest.mark.parametrize("name", ["Bad", "with space", "dotted.name", "", "9x"])
def test_bad_names_raise_at_the_call_site(name: str) -> None:
    perf = PerformanceLogger(MetricRegistry())
    with pytest.raises(ValueError, match="invalid metric name"):
        perf.increment_counter(name)
    with pytest.raises(ValueError, match="invalid metric name"):
        perf.record_timer(name, 1.0)


def test_negative_counter_increment_raises() -> None:
    perf = PerformanceLogger(MetricRegistry())
    with pytest.raises(ValueError, match="can only increase"):
        perf.increment_counter("x", -1)


def test_one_name_one_kind() -> None:
    perf = PerformanceLogger(MetricRegistry())
    perf.increment_counter("things")
    with pytest.raises(ValueError, match="already registered as a counter"):
        perf.record_gauge("things", 1)


def test_catalog_names_take_the_catalog_definition() -> None:
    registry = MetricRegistry()
    perf = PerformanceLogger(registry)
    perf.increment_counter("messages_sent")
    perf.increment_counter("page_views")
    described = {m.name: (m.unit, m.description) for m in registry.collect()}
    spec = registry.catalog.instrument("plexichat.messages_sent")
    assert described["plexichat.messages_sent"] == (spec.unit, spec.description)
    assert described["plexichat.page_views"] == (
        "1",
        "Count of page views (recorded with the performance logger).",
    )
    with pytest.raises(ValueError, match=r"'plexichat.active_users' is a gauge in the metric"):
        perf.increment_counter("active_users")
    with pytest.raises(ValueError, match=r"takes the attributes \[\] \(metric catalog\)"):
        perf.increment_counter("messages_sent", room="general")


def test_get_performance_logger_is_shared_and_uses_the_default_registry() -> None:
    assert get_performance_logger() is get_performance_logger()
    assert get_performance_logger().registry is DEFAULT_REGISTRY
