"""OTLP export with the official exporters, decoded by a receiver using opentelemetry-proto."""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
from typing import Any

import pytest
from fastapi import FastAPI

from plexichat.config import load_settings
from plexichat.observability import MetricRegistry, instrument_app, uninstrument_app
from tests.support.asgi import call, lifespan
from tests.support.items_app import items_app
from tests.support.otlp_receiver import GrpcReceiver, HttpReceiver
from tests.support.tools import free_port

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT_ID = "00f067aa0ba902b7"


def make_app(endpoint: str, protocol: str = "http/protobuf", **tracing: Any) -> FastAPI:
    return items_app(
        {
            "service_name": "otlp-test",
            "environment": "ci",
            "otlp": {"endpoint": endpoint, "protocol": protocol, "timeout_seconds": 1},
            "tracing": {"sampler": "parentbased_always_on", **tracing},
        }
    )


async def test_the_lifespan_shutdown_flushes_spans_and_metrics(receiver: HttpReceiver) -> None:
    """A worker that stops (recycled by --max-requests, SIGTERM) runs the lifespan shutdown and
    exits; its export threads die with it, so what waits for the next export (spans: up to a
    second; metrics: the 30 s interval) goes at the shutdown. A flush, not a shutdown: the
    app may run its lifespan again."""
    app = make_app(receiver.endpoint)
    try:
        for served in (1, 2):
            async with lifespan(app):
                assert (await call(app, "GET", f"/items/{served}"))[0] == 200
            assert len(receiver.received.spans()) == served
            assert "http.server.request.duration" in receiver.received.metric_names()
        # the flush collected for OTLP only: the next scrape prints each series once
        samples = [
            line
            for line in (await call(app, "GET", "/metrics"))[1].decode().splitlines()
            if line and not line.startswith("#")
        ]
        assert any(line.startswith("process_memory_usage_bytes") for line in samples)
        series = [line.rsplit(" ", 1)[0] for line in samples]
        assert len(series) == len(set(series))
    finally:
        uninstrument_app(app)


async def test_http_export_carries_spans_metrics_and_resource(receiver: HttpReceiver) -> None:
    app = make_app(receiver.endpoint)
    traceparent = f"00-{TRACE_ID}-{PARENT_ID}-01".encode()
    assert (await call(app, "GET", "/items/7", [(b"traceparent", traceparent)]))[0] == 200
    assert (await call(app, "GET", "/items/8"))[0] == 200
    uninstrument_app(app)  # shutdown flushes both signals

    spans = receiver.received.spans()
    assert sorted(s.name for s in spans) == ["GET /items/{item_id}", "GET /items/{item_id}"]
    continued = [s for s in spans if s.trace_id.hex() == TRACE_ID]
    assert len(continued) == 1
    assert continued[0].parent_span_id.hex() == PARENT_ID
    attrs = {kv.key: kv.value for kv in continued[0].attributes}
    assert attrs["http.route"].string_value == "/items/{item_id}"
    assert attrs["http.response.status_code"].int_value == 200

    names = receiver.received.metric_names()
    assert {
        "http.server.request.duration",
        "plexichat.http.server.time_to_first_byte",
        "process.memory.usage",
    } <= names
    resource = receiver.received.resource_attributes()
    assert resource["service.name"] == "otlp-test"
    assert resource["deployment.environment.name"] == "ci"


async def test_grpc_export(grpc_receiver: GrpcReceiver) -> None:
    app = make_app(grpc_receiver.endpoint, protocol="grpc")
    assert (await call(app, "GET", "/items/1"))[0] == 200
    uninstrument_app(app)
    assert [s.name for s in grpc_receiver.received.spans()] == ["GET /items/{item_id}"]
    assert "http.server.request.duration" in grpc_receiver.received.metric_names()


async def test_sampler_off_sends_no_spans_but_metrics(receiver: HttpReceiver) -> None:
    app = make_app(receiver.endpoint, sampler="parentbased_always_off")
    for _ in range(20):
        assert (await call(app, "GET", "/items/1"))[0] == 200
    uninstrument_app(app)
    assert receiver.received.spans() == []
    assert "http.server.request.duration" in receiver.received.metric_names()


async def test_unreachable_endpoint_never_fails_a_request() -> None:
    # A listening socket that never answers: the exporter would wait for its timeout.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        for endpoint in (
            f"http://127.0.0.1:{silent.getsockname()[1]}",
            f"http://127.0.0.1:{free_port()}",
        ):
            app = make_app(endpoint)
            statuses = [(await call(app, "GET", f"/items/{i}"))[0] for i in range(200)]
            assert statuses == [200] * 200
            uninstrument_app(app)


async def test_internal_spans_nest_under_sampled_requests_only(
    receiver: HttpReceiver,
) -> None:
    from plexichat.observability.tracing.spans import span

    app = FastAPI()

    @app.get("/work")
    async def work() -> dict[str, bool]:
        with span("inner.step", step=1) as opened:
            return {"opened": opened is not None}

    settings = load_settings(
        environ={},
        overrides={
            "performance": {
                "observability": {
                    "otlp": {"endpoint": receiver.endpoint, "timeout_seconds": 1},
                    "tracing": {"sampler": "parentbased_always_on"},
                }
            }
        },
    )
    instrument_app(app, settings, registry=MetricRegistry())
    assert (await call(app, "GET", "/work"))[1] == b'{"opened":true}'
    with span("outside.request") as outside:
        assert outside is None
    uninstrument_app(app)
    spans = {s.name: s for s in receiver.received.spans()}
    assert set(spans) == {"GET /work", "inner.step"}
    assert spans["inner.step"].parent_span_id == spans["GET /work"].span_id
    with span("after.shutdown") as after:
        assert after is None


def settings_with(endpoint: str, tracing_enabled: bool = True, **otlp: Any) -> Any:
    return load_settings(
        environ={},
        overrides={
            "performance": {
                "metrics_collection_interval": 1,
                "observability": {
                    "otlp": {"endpoint": endpoint, "timeout_seconds": 1, **otlp},
                    "tracing": {"sampler": "always_on", "enabled": tracing_enabled},
                },
            }
        },
    )


async def test_headers_and_the_collection_interval_reach_the_receiver(
    receiver: HttpReceiver,
) -> None:
    app = FastAPI()
    instrument_app(
        app,
        settings_with(receiver.endpoint, headers={"authorization": "Bearer t0ken"}),
        registry=MetricRegistry(),
    )
    await call(app, "GET", "/nothing")
    # metrics_collection_interval: 1 -> a periodic export arrives without any shutdown flush
    for _ in range(100):
        if receiver.received.metrics:
            break
        await asyncio.sleep(0.1)
    assert receiver.received.metrics, "no periodic metric export within 10 s"
    uninstrument_app(app)
    assert {h.get("authorization") for h in receiver.received.headers} == {"Bearer t0ken"}


@pytest.mark.parametrize(
    ("otlp", "tracing_enabled", "spans", "metrics"),
    [
        ({"traces_enabled": False}, True, False, True),
        ({"metrics_enabled": False}, True, True, False),
        ({}, False, False, True),
    ],
)
async def test_each_signal_can_be_switched_off(
    receiver: HttpReceiver,
    otlp: dict[str, bool],
    tracing_enabled: bool,
    spans: bool,
    metrics: bool,
) -> None:
    settings = settings_with(receiver.endpoint, tracing_enabled, **otlp)
    app = make_app(receiver.endpoint)
    uninstrument_app(app)
    receiver.received.traces.clear()
    receiver.received.metrics.clear()
    instrument_app(app, settings, registry=MetricRegistry())
    assert (await call(app, "GET", "/items/1"))[0] == 200
    uninstrument_app(app)
    assert bool(receiver.received.spans()) is spans
    assert bool(receiver.received.metrics) is metrics


async def test_a_dead_endpoint_is_waited_on_by_the_export_thread_only(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from plexichat.observability.tracing.export import HttpTransport

    callers: list[str] = []
    send = HttpTransport.__call__

    def recording(self: HttpTransport, payload: bytes) -> None:
        callers.append(threading.current_thread().name)
        send(self, payload)

    monkeypatch.setattr(HttpTransport, "__call__", recording)
    with socket.socket() as silent:  # accepts connections, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        app = make_app(f"http://127.0.0.1:{silent.getsockname()[1]}")
        statuses = [(await call(app, "GET", f"/items/{i}"))[0] for i in range(50)]
        uninstrument_app(app)  # the final export times out after timeout_seconds (1 s)
    assert statuses == [200] * 50
    assert callers
    assert set(callers) == {"plexichat-span-export"}


def test_exporter_logs_are_rate_limited() -> None:
    from plexichat.observability.metrics.exporters import RateLimitFilter

    limit = RateLimitFilter(interval=60)
    records = [
        logging.LogRecord("x", logging.WARNING, __file__, 1, "export failed: %s", (n,), None)
        for n in range(5)
    ]
    other = logging.LogRecord("x", logging.WARNING, __file__, 1, "another problem", (), None)
    assert [limit.filter(r) for r in records] == [True, False, False, False, False]
    assert limit.filter(other) is True
