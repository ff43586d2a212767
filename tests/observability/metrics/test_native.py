"""Native (base-2 exponential) buckets: known values land in known buckets, the window
downscales like the OpenTelemetry SDK's exponential histogram, workers merge exactly, and
Prometheus' span encoding."""

from __future__ import annotations

import math
import random
from pathlib import Path

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import ExponentialHistogramDataPoint, InMemoryMetricReader
from opentelemetry.sdk.metrics.view import ExponentialBucketHistogramAggregation, View

from plexichat.observability.metrics.directory import MultiprocessDirectory
from plexichat.observability.metrics.exposition import prometheus_native
from plexichat.observability.metrics.native import NativePoint, NativeSpec
from plexichat.observability.metrics.points import HistogramPoint
from plexichat.observability.metrics.registry import MetricRegistry


def registry_with(spec: NativeSpec, directory: Path | None = None) -> MetricRegistry:
    registry = MetricRegistry()
    if directory is not None:
        registry.share(MultiprocessDirectory(directory))
        registry.claim()
    registry.family("t.duration", "histogram", "s", "D.", (), boundaries=(0.1, 1), native=spec)
    return registry


def record(registry: MetricRegistry, values: list[float]) -> None:
    series = next(f for f in registry.families() if f.name == "t.duration").histogram()
    for value in values:
        series.record(value)


def native_point(registry: MetricRegistry) -> NativePoint:
    (point,) = (p for family, points in registry.points() for _, p in points)
    assert isinstance(point, HistogramPoint)
    assert point.native is not None
    return point.native


def buckets(point: NativePoint) -> dict[int, int]:
    return {point.offset + j: c for j, c in enumerate(point.counts) if c}


def expected_index(value: float, scale: int) -> int:
    """Bucket i holds (2**(i / 2**scale), 2**((i + 1) / 2**scale)]."""
    return math.ceil(math.log2(value) * 2.0**scale) - 1


def test_known_values_land_in_their_buckets() -> None:
    registry = registry_with(NativeSpec(schema=3, max_buckets=160))
    # powers of two are the upper bound of their bucket; just above one starts the next
    values = [1.0, 2.0, 0.5, 0.25, 1.0 + 1e-12, 2.0 - 1e-12, 0.001, 0.0123, 0.3, 3.0, 1.1]
    record(registry, values)
    point = native_point(registry)
    assert point.scale == 3
    assert point.zero_count == 0
    want: dict[int, int] = {}
    for value in values:
        want[expected_index(value, 3)] = want.get(expected_index(value, 3), 0) + 1
    assert buckets(point) == want
    # the formula, spelled out for the boundaries: 1.0 ends bucket -1, 2.0 ends bucket 7
    assert want[-1] == 1
    assert want[0] == 1  # 1 + 1e-12
    assert want[7] == 2  # 2 - 1e-12 and 2.0
    assert want[-9] == 1  # 0.5
    assert want[-17] == 1  # 0.25
    assert point.count == len(values)


def test_zero_bucket_holds_values_up_to_the_threshold() -> None:
    registry = registry_with(NativeSpec(schema=3, max_buckets=160, zero_threshold=0.001))
    record(registry, [0.0, -0.5, 0.0005, 0.001, 0.0011])
    point = native_point(registry)
    assert point.zero_count == 4
    assert point.zero_threshold == 0.001
    assert buckets(point) == {expected_index(0.0011, 3): 1}


def test_too_wide_a_span_lowers_the_schema_merging_pairs_of_buckets() -> None:
    registry = registry_with(NativeSpec(schema=3, max_buckets=6))
    record(registry, [1.0, 1.5])  # buckets -1 and 4 at scale 3: six buckets, fits
    assert native_point(registry).scale == 3
    record(registry, [2.0])  # bucket 7: -1..7 is nine; at scale 2: -1..3, five
    point = native_point(registry)
    assert point.scale == 2
    assert buckets(point) == {-1: 1, 2: 1, 3: 1}
    record(registry, [4.5])  # scale 2: bucket 8, -1..8 is ten; scale 1: -1..4, six
    point = native_point(registry)
    assert point.scale == 1
    assert buckets(point) == {-1: 1, 1: 2, 4: 1}
    assert buckets(point) == {
        expected_index(1.0, 1): 1,
        expected_index(1.5, 1): 2,  # 1.5 and 2.0 share (2**0.5, 2]
        expected_index(4.5, 1): 1,
    }
    assert (point.count, point.zero_count) == (4, 0)


def sdk_point(values: list[float], max_size: int, max_scale: int) -> ExponentialHistogramDataPoint:
    reader = InMemoryMetricReader()
    aggregation = ExponentialBucketHistogramAggregation(max_size=max_size, max_scale=max_scale)
    provider = MeterProvider(
        metric_readers=[reader], views=[View(instrument_name="t.duration", aggregation=aggregation)]
    )
    histogram = provider.get_meter("t").create_histogram("t.duration")
    for value in values:
        histogram.record(value)
    data = reader.get_metrics_data()
    assert data is not None
    (point,) = data.resource_metrics[0].scope_metrics[0].metrics[0].data.data_points
    assert isinstance(point, ExponentialHistogramDataPoint)
    provider.shutdown()
    return point


@pytest.mark.parametrize(("max_buckets", "schema"), [(160, 3), (20, 3), (8, 5), (160, 0)])
def test_same_buckets_as_the_opentelemetry_sdk(max_buckets: int, schema: int) -> None:
    rng = random.Random(19)
    values = [rng.lognormvariate(math.log(0.003), 1.5) for _ in range(2000)]
    registry = registry_with(NativeSpec(schema=schema, max_buckets=max_buckets))
    record(registry, values)
    ours = native_point(registry)
    theirs = sdk_point(values, max_buckets, schema)
    assert ours.scale == theirs.scale
    counts = list(theirs.positive.bucket_counts)
    while counts and not counts[-1]:  # the SDK sends its whole backing array
        counts.pop()
    assert (ours.offset, list(ours.counts)) == (theirs.positive.offset, counts)
    assert ours.count == theirs.count == len(values)


def merged_and_single(tmp_path: Path, a: list[float], b: list[float], spec: NativeSpec) -> None:
    one = registry_with(spec)
    record(one, a + b)
    workers = [registry_with(spec, tmp_path / "metrics") for _ in range(2)]
    record(workers[0], a)
    record(workers[1], b)
    for worker in workers:
        assert native_point(worker) == native_point(one)
    for worker in workers:
        worker.unshare()


def test_workers_merge_to_what_one_process_holds(tmp_path: Path) -> None:
    spec = NativeSpec(schema=3, max_buckets=40)
    rng = random.Random(7)
    fast = [rng.uniform(0.0008, 0.004) for _ in range(300)]  # each worker alone fits in 40
    slow = [rng.uniform(0.05, 0.4) for _ in range(300)]  # together they need scale 2
    merged_and_single(tmp_path, [*fast, 0.0], slow, spec)
    one = registry_with(spec)
    record(one, fast + slow)
    assert native_point(one).scale < 3  # the merge did downscale


def test_a_successor_continues_a_dead_workers_native_buckets(tmp_path: Path) -> None:
    spec = NativeSpec(schema=3, max_buckets=160)
    first = registry_with(spec, tmp_path / "metrics")
    record(first, [0.002, 0.004])
    first.unshare()  # dies; its slot keeps the values
    successor = registry_with(spec)
    record(successor, [0.5])  # recorded before it claims the slot
    successor.share(MultiprocessDirectory(tmp_path / "metrics"))
    successor.claim()
    record(successor, [0.002])
    one = registry_with(spec)
    record(one, [0.002, 0.004, 0.5, 0.002])
    assert native_point(successor) == native_point(one)
    successor.unshare()


def test_prometheus_indexes_are_opentelemetry_s_plus_one() -> None:
    # OpenTelemetry buckets 4, 5, 7 with counts 2, 1, 3: Prometheus indexes 5, 6, 8 (its bucket
    # i is (base ** (i-1), base ** i], OpenTelemetry's k is (base ** k, base ** (k+1)]).
    native = prometheus_native(NativePoint(3, 0.0, 1, 4, (2, 1, 0, 3)))
    assert (native.schema, native.zero_threshold, native.zero_count) == (3, 0.0, 1)
    assert dict(native.positive) == {5: 2, 6: 1, 8: 3}
    assert native.count == 7
