"""The protobuf exposition read back with the compiled messages: names as the text format's
series, classic buckets with exemplars, native spans and deltas; and text untouched."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from google.protobuf.internal.decoder import _DecodeVarint  # type: ignore[attr-defined]
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    HistogramMetricFamily,
    InfoMetricFamily,
    SummaryMetricFamily,
)
from prometheus_client.exposition import choose_encoder
from prometheus_client.metrics_core import Metric
from prometheus_client.samples import Exemplar

from plexichat.observability.exposition import metrics_pb2 as pb
from plexichat.observability.exposition import protobuf, render
from plexichat.observability.exposition.native import NativeBuckets, NativeHistogramFamily
from plexichat.observability.metrics.exposition import LeanCollector
from tests.observability.metrics.test_exposition import populated

ACCEPT_PROTOBUF = (
    "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;"
    "q=0.8,application/openmetrics-text;version=1.0.0;q=0.5,text/plain;version=0.0.4;q=0.2,"
    "*/*;q=0.1"
)
TEXT_ACCEPTS = [
    None,
    "",
    "*/*",
    "text/plain;version=0.0.4",
    "application/openmetrics-text;version=1.0.0;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1",
    # protobuf offered, but not preferred, or not the delimited MetricFamily
    "application/openmetrics-text;version=1.0.0,application/vnd.google.protobuf;"
    "proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.5",
    "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=text",
    "application/vnd.google.protobuf;encoding=delimited",
    "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0",
]


def lean_registry() -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(LeanCollector(populated(), "plexichat.observability", "0.1.0"))
    return registry


def decoded(body: bytes) -> dict[str, pb.MetricFamily]:
    families: dict[str, pb.MetricFamily] = {}
    position = 0
    while position < len(body):
        size, position = _DecodeVarint(body, position)
        family = pb.MetricFamily.FromString(body[position : position + size])
        families[family.name] = family
        position += size
    return families


@pytest.mark.parametrize("accept", TEXT_ACCEPTS)
def test_a_scrape_not_preferring_protobuf_gets_exactly_the_text_it_got(accept: str | None) -> None:
    registry = lean_registry()
    encoder, content_type = choose_encoder(accept or "")
    assert render(registry, accept) == (encoder(registry), content_type)


@pytest.mark.parametrize(
    "accept",
    [
        ACCEPT_PROTOBUF,
        "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; "
        'encoding="delimited", text/plain;version=0.0.4;q=0.5',
    ],
)
def test_prometheus_asking_for_protobuf_gets_it(accept: str) -> None:
    body, content_type = render(lean_registry(), accept)
    assert content_type == protobuf.CONTENT_TYPE
    assert "http_server_request_duration_seconds" in decoded(body)


def test_families_carry_the_text_formats_series_names_and_values() -> None:
    families = decoded(protobuf.encode(lean_registry()))
    assert families["t_count_total"].type == pb.COUNTER
    assert sorted(m.counter.value for m in families["t_count_total"].metric) == [1, 3]
    assert families["t_bytes_total"].metric[0].counter.value == 7
    text = generate_latest(lean_registry()).decode().splitlines()
    assert set(families) == {line.split()[2] for line in text if line.startswith("# TYPE")}
    assert families["t_active"].type == pb.GAUGE
    assert families["t_active"].metric[0].gauge.value == 1
    http = families["http_server_request_duration_seconds"]
    assert http.type == pb.HISTOGRAM
    assert http.unit == "seconds"
    by_route = {
        {label.name: label.value for label in m.label}["http_route"]: m.histogram
        for m in http.metric
    }
    users = by_route["/api/users/{user_id}"]
    assert [b.upper_bound for b in users.bucket] == [0.005, 0.01, 0.1, 1, 10, float("inf")]
    assert [b.cumulative_count for b in users.bucket] == [1, 1, 1, 1, 1, 1]
    assert (users.sample_count, users.sample_sum) == (1, 0.004)
    assert not users.HasField("schema")  # classic only: Prometheus keeps its classic series
    labels = {label.name for label in http.metric[0].label}
    assert {"otel_scope_name", "otel_scope_version", "otel_scope_schema_url"} <= labels
    assert "le" not in labels


class Others:
    def collect(self) -> Iterator[Metric]:
        yield InfoMetricFamily("target", "Target metadata", value={"service_name": "t"})
        yield CounterMetricFamily("c", "C.", value=2, created=5.0)
        yield SummaryMetricFamily("s", "S.", count_value=4, sum_value=2.0)
        traced = Exemplar({"trace_id": "ab" * 16}, 0.25, 1700000000.5)
        yield HistogramMetricFamily("h", "H.", [("1.0", 1.0, traced), ("+Inf", 1.0)], 0.25)


def test_info_created_and_summaries_come_as_the_text_format_prints_them() -> None:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(Others())
    families = decoded(protobuf.encode(registry))
    assert families["target_info"].type == pb.GAUGE
    assert families["target_info"].metric[0].label[0].value == "t"
    assert families["c_total"].metric[0].counter.value == 2
    assert families["c_created"].metric[0].gauge.value == 5.0
    assert families["s"].metric[0].summary.sample_count == 4
    exemplar = families["h"].metric[0].histogram.bucket[0].exemplar
    assert (exemplar.label[0].name, exemplar.label[0].value) == ("trace_id", "ab" * 16)
    assert exemplar.value == 0.25
    assert (exemplar.timestamp.seconds, exemplar.timestamp.nanos) == (1700000000, 500_000_000)
    assert not families["h"].metric[0].histogram.bucket[1].HasField("exemplar")


def native_histogram(native: NativeBuckets) -> pb.Histogram:
    family = NativeHistogramFamily("n", "N.", labels=["a"])
    family.add_metric(["x"], [("1.0", 1.0), ("+Inf", 2.0)], 3.0, native=native)
    family.add_metric(["y"], [("1.0", 1.0), ("+Inf", 2.0)], 3.0)

    class One:
        def collect(self) -> Iterator[Metric]:
            yield family

    registry = CollectorRegistry(auto_describe=False)
    registry.register(One())
    x, y = decoded(protobuf.encode(registry))["n"].metric
    assert not y.histogram.HasField("schema")  # a series without native buckets stays classic
    assert len(x.histogram.bucket) == 2
    return x.histogram


def test_native_buckets_become_spans_and_deltas() -> None:
    h = native_histogram(NativeBuckets(3, 0.001, 1, {0: 2, 1: 3, 4: 5}, {1: 1}))
    assert (h.schema, h.zero_threshold, h.zero_count) == (3, 0.001, 1)
    # two empty buckets between 1 and 4: one span through them
    assert [(s.offset, s.length) for s in h.positive_span] == [(0, 5)]
    assert list(h.positive_delta) == [2, 1, -3, 0, 5]
    assert [(s.offset, s.length) for s in h.negative_span] == [(1, 1)]
    assert list(h.negative_delta) == [1]
    # three empty buckets: a new span, its offset the gap; deltas continue across spans
    h = native_histogram(NativeBuckets(0, 0.0, 0, {-2: 4, 2: 1, 3: 1}))
    assert [(s.offset, s.length) for s in h.positive_span] == [(-2, 1), (3, 2)]
    assert list(h.positive_delta) == [4, -3, 0]


def test_an_empty_native_histogram_has_the_no_op_span() -> None:
    h = native_histogram(NativeBuckets(0, 0.0, 0))
    assert [(s.offset, s.length) for s in h.positive_span] == [(0, 0)]


def test_native_buckets_out_of_range_are_refused_with_the_reason() -> None:
    with pytest.raises(ValueError, match=r"schema 9 is outside -4\.\.8"):
        NativeBuckets(9, 0.0, 0)
    with pytest.raises(ValueError, match="negative"):
        NativeBuckets(0, 0.0, 0, {1: -1})
