"""Prometheus exposition of the lean registry: byte for byte what the OpenTelemetry exporter
prints in the plain text format, and exemplars (lower-bucket rule) in OpenMetrics."""

from __future__ import annotations

from typing import Any

import pytest
from opentelemetry.exporter.prometheus import PrometheusMetricReader
from opentelemetry.metrics import CallbackOptions, Observation
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import MetricsData
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.openmetrics.exposition import generate_latest as generate_openmetrics
from prometheus_client.openmetrics.parser import text_string_to_metric_families

from plexichat.catalog.prometheus import unit_suffix
from plexichat.observability.metrics.exposition import LeanCollector
from plexichat.observability.metrics.instruments import CounterSeries
from plexichat.observability.metrics.readers import LeanSource
from plexichat.observability.metrics.registry import MetricRegistry
from tests.support.datamodel import histogram_points

SCOPE = InstrumentationScope("plexichat.observability", "0.1.0")
RESOURCE = Resource({"service.name": "t", "service.instance.id": "i"})


def populated() -> MetricRegistry:
    registry = MetricRegistry()
    http = registry.family(
        "http.server.request.duration",
        "histogram",
        "s",
        "Duration of HTTP server requests.",
        ("http.request.method", "http.route", "http.response.status_code", "error.type"),
        boundaries=(0.005, 0.01, 0.1, 1, 10),
        exemplars=True,
    )
    http.histogram(("GET", "/api/users/{user_id}", 200, None)).record(0.004)
    http.histogram(("GET", None, 404, None)).record(0.02)
    http.histogram(("POST", "/api/posts", 500, "500")).record(3)
    sizes = registry.family("t.size", "histogram", "By", "Sizes.", (), boundaries=(0, 100))
    sizes.histogram().record(50)
    active = registry.family("t.active", "updowncounter", "{request}", "Active.", ("m",))
    active.counter(("GET",)).add(2)
    active.counter(("GET",)).add(-1)
    ratio = registry.family("t.ratio", "gauge", "1", "A ratio.", None).free_series((("a", "x"),))
    assert isinstance(ratio, CounterSeries)
    ratio.set(0.5)
    count = registry.family("t.count", "counter", "1", "Counted.", ("k",), limit=1)
    count.counter(("a",)).add(3)
    count.counter(("b",)).add(1)  # past the limit: the overflow series
    registry.family("t.bytes", "counter", "By", "Bytes.", ()).counter().add(7)
    return registry


class OtelTranslated(PrometheusMetricReader):
    """The lean registry through the OpenTelemetry exporter's own translation (how our
    /metrics was rendered before it had exemplars)."""

    def __init__(self, registry: MetricRegistry, target: CollectorRegistry) -> None:
        super().__init__(registry=target)
        self._source = LeanSource(registry, RESOURCE, SCOPE)

    def _receive_metrics(
        self, metrics_data: MetricsData, timeout_millis: float = 10_000, **kwargs: Any
    ) -> None:
        super()._receive_metrics(self._source.merge(metrics_data), timeout_millis, **kwargs)


def _gauge(options: CallbackOptions) -> list[Observation]:
    return [Observation(1)]


def render_both(registry: MetricRegistry) -> tuple[bytes, bytes]:
    theirs, ours = CollectorRegistry(auto_describe=False), CollectorRegistry(auto_describe=False)
    providers = []
    for target, reader in (
        (theirs, OtelTranslated(registry, theirs)),
        (ours, PrometheusMetricReader(registry=ours)),
    ):
        provider = MeterProvider(resource=RESOURCE, metric_readers=[reader])
        provider.get_meter(SCOPE.name, SCOPE.version).create_observable_gauge("t.sdk", [_gauge])
        providers.append(provider)
        if target is ours:
            ours.register(LeanCollector(registry, SCOPE.name, SCOPE.version or ""))
    try:
        return generate_latest(theirs), generate_latest(ours)
    finally:
        for provider in providers:
            provider.shutdown()


def test_plain_text_is_byte_identical_to_the_otel_exporters() -> None:
    registry = populated()
    theirs, ours = render_both(registry)
    assert b"http_server_request_duration_seconds_bucket" in ours
    assert b'otel_metric_overflow="true"' in ours
    assert ours == theirs


def test_plain_text_stays_identical_when_requests_leave_exemplars() -> None:
    registry = populated()
    before, _ = render_both(registry)
    family = registry.family(
        "http.server.request.duration",
        "histogram",
        "s",
        "Duration of HTTP server requests.",
        ("http.request.method", "http.route", "http.response.status_code", "error.type"),
        boundaries=(0.005, 0.01, 0.1, 1, 10),
    )
    family.histogram(("GET", "/api/users/{user_id}", 200, None)).record_exemplar(0.004, 1, 2)
    theirs, ours = render_both(registry)
    assert theirs == before
    assert ours == theirs


@pytest.mark.parametrize(
    "unit", ["s", "ms", "By", "MiBy", "1", "{request}", "%", "m/s", "By/s", "1/s", "Hz", "x/y", ""]
)
def test_unit_suffixes_follow_the_otel_exporter(unit: str) -> None:
    from opentelemetry.exporter.prometheus._mapping import map_unit

    assert unit_suffix(unit) == map_unit(unit)


def openmetrics_buckets(registry: MetricRegistry) -> dict[str, Any]:
    target = CollectorRegistry(auto_describe=False)
    target.register(LeanCollector(registry, SCOPE.name, SCOPE.version or ""))
    text = generate_openmetrics(target).decode()
    return {
        s.labels["le"]: s.exemplar
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name.endswith("_bucket")
    }


def test_exemplars_follow_the_lower_bucket_rule_in_openmetrics() -> None:
    registry = MetricRegistry()
    family = registry.family(
        "t.latency", "histogram", "s", "Latency.", (), boundaries=(0.1, 0.5, 1), exemplars=True
    )
    series = family.histogram()
    assert set(openmetrics_buckets(registry).values()) == {None}  # nothing sampled yet
    for value, trace_id in ((0.3, 0xA), (0.05, 0xB), (0.4, 0xC)):
        series.record(value)
        series.record_exemplar(value, trace_id, 0xF)
    buckets = openmetrics_buckets(registry)
    assert buckets["0.1"].labels == {"trace_id": f"{0xB:032x}", "span_id": f"{0xF:016x}"}
    assert buckets["0.1"].value == 0.05
    # the newest of its own bucket wins
    assert (buckets["0.5"].labels["trace_id"], buckets["0.5"].value) == (f"{0xC:032x}", 0.4)
    # buckets without one borrow the nearest lower bucket's (cumulative buckets contain it)
    assert buckets["1.0"] == buckets["0.5"]
    assert buckets["+Inf"] == buckets["0.5"]
    assert buckets["0.5"].timestamp is not None


def test_otlp_points_carry_the_exemplars() -> None:
    registry = MetricRegistry()
    family = registry.family(
        "t.latency", "histogram", "s", "Latency.", (), boundaries=(0.1, 1), exemplars=True
    )
    family.histogram().record(0.5)
    family.histogram().record_exemplar(0.5, 0xABC, 0xDEF)
    (point,) = histogram_points(registry, "t.latency")
    (exemplar,) = point.exemplars
    assert (exemplar.value, exemplar.trace_id, exemplar.span_id) == (0.5, 0xABC, 0xDEF)
