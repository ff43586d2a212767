"""Exemplars: sampled requests leave their trace on the latency buckets they fell in."""

from __future__ import annotations

import time
from typing import Any

from fastapi import FastAPI
from prometheus_client.openmetrics.parser import text_string_to_metric_families

from plexichat.observability import uninstrument_app
from tests.support.asgi import call
from tests.support.items_app import items_app
from tests.support.otlp_receiver import HttpReceiver

OPENMETRICS = [(b"accept", b"application/openmetrics-text; version=1.0.0")]
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"


def make_app(endpoint: str, **tracing: Any) -> FastAPI:
    return items_app(
        {
            "otlp": {"endpoint": endpoint, "timeout_seconds": 1},
            "tracing": {"sampler": "parentbased_always_off", **tracing},
        },
        metrics_collection_interval=1,
    )


def exemplars(text: str, family: str) -> dict[str, Any]:
    return {
        s.labels["le"]: s.exemplar
        for f in text_string_to_metric_families(text)
        if f.name == family
        for s in f.samples
        if s.name.endswith("_bucket")
    }


async def test_a_sampled_request_leaves_its_trace_on_both_latency_histograms(
    receiver: HttpReceiver,
) -> None:
    app = make_app(receiver.endpoint)
    sampled = [(b"traceparent", f"00-{TRACE_ID}-00f067aa0ba902b7-01".encode())]
    unsampled = [(b"traceparent", f"00-{'c' * 32}-00f067aa0ba902b7-00".encode())]
    try:
        assert (await call(app, "GET", "/items/1", sampled))[0] == 200
        assert (await call(app, "GET", "/items/2", unsampled))[0] == 200
        _, body = await call(app, "GET", "/metrics", OPENMETRICS)
        text = body.decode()
        plain = (await call(app, "GET", "/metrics"))[1].decode()
    finally:
        uninstrument_app(app)
    (server,) = [s for s in receiver.received.spans() if s.kind == 2]
    for family in (
        "http_server_request_duration_seconds",
        "plexichat_http_server_time_to_first_byte_seconds",
    ):
        found = exemplars(text, family)
        # The bucket the request fell in carries it (and +Inf, by the lower-bucket rule).
        bucket = min((le for le, e in found.items() if e is not None), key=float)
        own = found[bucket]
        assert own.labels == {"trace_id": TRACE_ID, "span_id": server.span_id.hex()}
        assert 0 < own.value <= float(bucket) < float("inf")
        assert abs(float(own.timestamp) - time.time()) < 60
        assert found["+Inf"] == own  # the lower-bucket rule
    assert "trace_id" not in plain  # the plain text format has no exemplars


async def test_exemplars_reach_otlp(receiver: HttpReceiver) -> None:
    app = make_app(receiver.endpoint)
    sampled = [(b"traceparent", f"00-{TRACE_ID}-00f067aa0ba902b7-01".encode())]
    try:
        await call(app, "GET", "/items/1", sampled)
    finally:
        uninstrument_app(app)  # flushes the metric export
    points = [
        point
        for request in receiver.received.metrics
        for rm in request.resource_metrics
        for sm in rm.scope_metrics
        for metric in sm.metrics
        if metric.name == "http.server.request.duration"
        for point in metric.histogram.data_points
    ]
    assert points
    (exemplar,) = points[-1].exemplars
    assert exemplar.trace_id.hex() == TRACE_ID
    assert exemplar.as_double > 0


async def test_exemplars_can_be_switched_off(receiver: HttpReceiver) -> None:
    app = make_app(receiver.endpoint, exemplars=False)
    sampled = [(b"traceparent", f"00-{TRACE_ID}-00f067aa0ba902b7-01".encode())]
    try:
        await call(app, "GET", "/items/1", sampled)
        _, body = await call(app, "GET", "/metrics", OPENMETRICS)
    finally:
        uninstrument_app(app)
    assert receiver.received.spans()  # still traced
    assert set(exemplars(body.decode(), "http_server_request_duration_seconds").values()) == {None}
