"""The lean instruments, read back through the OpenTelemetry data model they convert to."""

from __future__ import annotations

import pytest
from opentelemetry.sdk.metrics.export import Sum

from plexichat.observability.metrics.instruments import CounterSeries
from plexichat.observability.metrics.registry import MetricRegistry
from tests.support.datamodel import attributes, histogram_points, metrics, values


def test_histogram_buckets_are_upper_inclusive_like_otel() -> None:
    registry = MetricRegistry()
    family = registry.family("t.duration", "histogram", "s", "Test.", ("k",), boundaries=(0.1, 0.5))
    series = family.histogram(("a",))
    for value in (0.05, 0.1, 0.2, 0.5, 0.7):
        series.record(value)
    [point] = histogram_points(registry, "t.duration")
    assert list(point.bucket_counts) == [2, 2, 1]
    assert (point.count, point.min, point.max) == (5, 0.05, 0.7)
    assert point.sum == pytest.approx(1.55)
    assert attributes(point) == {"k": "a"}


def test_absent_attributes_are_left_out() -> None:
    registry = MetricRegistry()
    family = registry.family("t.count", "counter", "1", "Test.", ("a", "b"))
    family.counter(("x", None)).add(2)
    data = metrics(registry)["t.count"].data
    assert isinstance(data, Sum)
    assert data.is_monotonic
    assert values(registry, "t.count") == {(("a", "x"),): 2}


def test_past_the_limit_new_attribute_sets_fold_into_the_overflow_series() -> None:
    registry = MetricRegistry()
    family = registry.family("t.count", "counter", "1", "Test.", ("k",), limit=2)
    for key in ("a", "b", "c", "d", "a"):
        series = family.series((key,))
        assert isinstance(series, CounterSeries)
        series.add(1)
    assert values(registry, "t.count") == {
        (("k", "a"),): 2,
        (("k", "b"),): 1,
        (("otel.metric.overflow", True),): 2,
    }
    assert values(registry, "plexichat.metric.overflow") == {(("metric", "t.count"),): 2}


def test_a_new_series_limit_reaches_the_families_created_before_it() -> None:
    """The guide's objects record into the process's registry before any app configures it:
    the app's ``series_limit`` must still bind their families (it once bound only families
    created after it, so a second app in the process silently kept the first one's)."""
    registry = MetricRegistry()
    early = registry.family("t.early", "counter", "1", "Test.", ("k",))
    own = registry.family("t.own", "counter", "1", "Test.", ("k",), limit=3)
    registry.limit_series(2)
    late = registry.family("t.late", "counter", "1", "Test.", ("k",))
    for family in (early, own, late):
        for key in ("a", "b", "c", "d"):
            family.counter((key,)).add(1)
    assert values(registry, "plexichat.metric.overflow") == {
        (("metric", "t.early"),): 2,
        (("metric", "t.own"),): 1,
        (("metric", "t.late"),): 2,
    }
    with pytest.raises(ValueError, match="at least 1"):
        registry.limit_series(0)


@pytest.mark.parametrize("name", ["Bad", "9lives", "a..b", "a-b", "", "a.B"])
def test_bad_names_fail_at_the_call_site(name: str) -> None:
    with pytest.raises(ValueError, match="invalid metric name"):
        MetricRegistry().family(name, "counter", "1", "Test.")


def test_same_name_other_kind_is_an_error_same_spec_is_shared() -> None:
    registry = MetricRegistry()
    first = registry.family("t.x", "counter", "1", "Test.")
    assert registry.family("t.x", "counter", "1", "Test.") is first
    with pytest.raises(ValueError, match="already registered as a counter"):
        registry.family("t.x", "gauge", "1", "Test.")


def test_histograms_need_increasing_boundaries_and_a_description() -> None:
    with pytest.raises(ValueError, match="strictly increasing"):
        MetricRegistry().family("t.h", "histogram", "s", "Test.", boundaries=(1, 0.5))
    with pytest.raises(ValueError, match="needs a description"):
        MetricRegistry().family("t.h", "counter", "1", "")
