"""OTLP sends the native buckets as exponential histograms when configured, through the
official HTTP and gRPC exporters, decoded by a receiver using opentelemetry-proto."""

from __future__ import annotations

import math
from typing import Any

import pytest

from plexichat.config import load_settings
from plexichat.observability import MetricRegistry, uninstrument_app
from plexichat.observability.telemetry import Telemetry
from tests.support.asgi import call
from tests.support.items_app import items_app
from tests.support.otlp_receiver import GrpcReceiver, HttpReceiver, Received

EXPONENTIAL = "base2_exponential_bucket_histogram"
VALUES = [0.0, 0.001, 0.002, 0.002, 0.0123, 0.25, 1.0, 2.0]


def exported(received: Received, name: str) -> list[Any]:
    """Every exported metric ``name``, oldest first."""
    with received.lock:
        return [
            m
            for req in received.metrics
            for rm in req.resource_metrics
            for sm in rm.scope_metrics
            for m in sm.metrics
            if m.name == name
        ]


def export_known_values(endpoint: str, protocol: str, environ: dict[str, str], **otlp: Any) -> None:
    settings = load_settings(
        environ=environ,
        overrides={
            "performance": {
                "observability": {
                    "otlp": {
                        "endpoint": endpoint,
                        "protocol": protocol,
                        "timeout_seconds": 2,
                        **otlp,
                    }
                }
            }
        },
    )
    registry = MetricRegistry()
    telemetry = Telemetry(settings, registry=registry)
    try:
        timed = registry.instrument("plexichat.operation.duration").histogram(("feed",))
        size = registry.instrument("http.server.response.body.size").histogram(
            ("GET", "/x", 200, None)
        )
        for value in VALUES:
            timed.record(value)
        size.record(512)
        telemetry.flush()
    finally:
        telemetry.shutdown()


def expected_buckets(scale: int) -> dict[int, int]:
    """Bucket i holds (2**(i / 2**scale), 2**((i + 1) / 2**scale)]; 0.0 is in the zero bucket."""
    out: dict[int, int] = {}
    for value in VALUES[1:]:
        index = math.ceil(math.log2(value) * 2.0**scale) - 1
        out[index] = out.get(index, 0) + 1
    return out


def check_exponential(received: Received) -> None:
    metric = exported(received, "plexichat.operation.duration")[-1]  # cumulative: the newest
    assert metric.WhichOneof("data") == "exponential_histogram"
    (point,) = metric.exponential_histogram.data_points
    assert point.count == len(VALUES)
    assert point.sum == pytest.approx(sum(VALUES))
    assert point.scale == 3  # the catalog's schema: the values span 11 octaves, 88 < 160
    assert point.zero_count == 1
    counts = point.positive.bucket_counts
    got = {point.positive.offset + j: c for j, c in enumerate(counts) if c}
    assert got == expected_buckets(3)
    assert (point.min, point.max) == (0.0, 2.0)
    # a histogram without native buckets keeps its explicit ones
    size = exported(received, "http.server.response.body.size")[-1]
    assert size.WhichOneof("data") == "histogram"


def test_http_exports_exponential_histograms_when_configured(receiver: HttpReceiver) -> None:
    export_known_values(receiver.endpoint, "http/protobuf", {}, histogram_aggregation=EXPONENTIAL)
    check_exponential(receiver.received)


def test_grpc_honours_the_variable_in_any_case(grpc_receiver: GrpcReceiver) -> None:
    # The gRPC exporter itself only knows the lower-case spelling; ours reads it in any case.
    spelling = " BASE2_Exponential_Bucket_Histogram "
    environ = {"OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION": spelling}
    export_known_values(grpc_receiver.endpoint, "grpc", environ)
    check_exponential(grpc_receiver.received)


def test_http_honours_the_variable(receiver: HttpReceiver) -> None:
    environ = {"OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION": EXPONENTIAL}
    export_known_values(receiver.endpoint, "http/protobuf", environ)
    check_exponential(receiver.received)


@pytest.mark.parametrize("protocol", ["http/protobuf", "grpc"])
def test_explicit_buckets_by_default(
    receiver: HttpReceiver, grpc_receiver: GrpcReceiver, protocol: str
) -> None:
    target = receiver if protocol == "http/protobuf" else grpc_receiver
    export_known_values(target.endpoint, protocol, {})
    metric = exported(target.received, "plexichat.operation.duration")[-1]
    assert metric.WhichOneof("data") == "histogram"
    assert metric.histogram.data_points[0].count == len(VALUES)


def test_a_bad_aggregation_names_the_variable() -> None:
    environ = {"OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION": "exponential"}
    with pytest.raises(
        ValueError, match="OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION"
    ):
        load_settings(environ=environ)


async def test_request_durations_go_as_exponential_histograms(receiver: HttpReceiver) -> None:
    """The middleware's inlined native recording: every request is in a native bucket."""
    app = items_app(
        {
            "otlp": {
                "endpoint": receiver.endpoint,
                "timeout_seconds": 2,
                "histogram_aggregation": EXPONENTIAL,
            },
            "tracing": {"enabled": False},
        }
    )
    for item in range(5):
        assert (await call(app, "GET", f"/items/{item}"))[0] == 200
    uninstrument_app(app)  # flushes
    for name in ("http.server.request.duration", "plexichat.http.server.time_to_first_byte"):
        metric = exported(receiver.received, name)[-1]
        (point,) = metric.exponential_histogram.data_points
        assert point.count == 5
        assert sum(point.positive.bucket_counts) + point.zero_count == 5
        assert point.scale == 3
        low = 2 ** (point.positive.offset / 8)  # lower bound of the first bucket
        assert low < point.min <= point.max
