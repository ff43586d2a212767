"""The lean instruments, read back through the OpenTelemetry data model they convert to."""

from __future__ import annotations

import pytest
from opentelemetry.sdk.metrics.export import Histogram, Metric, Sum

from plexichat.observability.metrics.registry import MetricRegistry


def collect(registry: MetricRegistry) -> dict[str, Metric]:
    return {m.name: m for m in registry.collect()}


def test_histogram_buckets_are_upper_inclusive_like_otel() -> None:
    registry = MetricRegistry()
    family = registry.family("t.duration", "histogram", "s", "Test.", ("k",), boundaries=(0.1, 0.5))
    series = family.series(("a",))
    for value in (0.05, 0.1, 0.2, 0.5, 0.7):
        series.record(value)  # type: ignore[union-attr]
    data = collect(registry)["t.duration"].data
    assert isinstance(data, Histogram)
    point = data.data_points[0]
    assert list(point.bucket_counts) == [2, 2, 1]
    assert (point.count, point.sum, point.min, point.max) == (5, pytest.approx(1.55), 0.05, 0.7)
    assert dict(point.attributes) == {"k": "a"}


def test_absent_attributes_are_left_out() -> None:
    registry = MetricRegistry()
    family = registry.family("t.count", "counter", "1", "Test.", ("a", "b"))
    family.series(("x", None)).add(2)  # type: ignore[union-attr]
    data = collect(registry)["t.count"].data
    assert isinstance(data, Sum)
    assert data.is_monotonic
    assert [(dict(p.attributes), p.value) for p in data.data_points] == [({"a": "x"}, 2)]


def test_past_the_limit_new_attribute_sets_fold_into_the_overflow_series() -> None:
    registry = MetricRegistry()
    family = registry.family("t.count", "counter", "1", "Test.", ("k",), limit=2)
    for key in ("a", "b", "c", "d", "a"):
        family.series((key,)).add(1)  # type: ignore[union-attr]
    metrics = collect(registry)
    points = {
        tuple(sorted(p.attributes.items())): p.value for p in metrics["t.count"].data.data_points
    }  # type: ignore[union-attr]
    assert points == {(("k", "a"),): 2, (("k", "b"),): 1, (("otel.metric.overflow", True),): 2}
    overflow = metrics["plexichat.metric.overflow"].data.data_points  # type: ignore[union-attr]
    assert [(dict(p.attributes), p.value) for p in overflow] == [({"metric": "t.count"}, 2)]


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
