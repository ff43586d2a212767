"""HTTP metrics as scraped from ``/metrics`` after known traffic."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import httpx
import pytest
from fastapi import APIRouter, FastAPI, Response

from plexichat.config import load_settings
from plexichat.observability import (
    MetricRegistry,
    installed_telemetry,
    instrument_app,
    uninstrument_app,
)
from plexichat.observability.middleware import TelemetryMiddleware
from plexichat.observability.process import available_cpus
from tests.support.asgi import call
from tests.support.scrape import series, value
from tests.support.tools import free_port, promtool, require_tool, requires_tool

DURATION = "http_server_request_duration_seconds_count"


def make_app(**observability: Any) -> FastAPI:
    app = FastAPI()

    @app.get("/items/{item_id}")
    async def item(item_id: int) -> dict[str, int]:
        return {"item_id": item_id}

    @app.get("/status/{code}")
    async def status(code: int) -> Response:
        return Response(b"x" * 10, status_code=code)

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("boom")

    router = APIRouter(prefix="/v1")

    @router.get("/things/{thing_id}")
    async def thing(thing_id: int) -> dict[str, int]:
        return {"thing_id": thing_id}

    app.include_router(router, prefix="/api")

    @app.get("/healthz")
    async def healthz() -> dict[str, bool]:
        return {"ok": True}

    settings = load_settings(
        environ={}, overrides={"performance": {"observability": observability}}
    )
    instrument_app(app, settings, registry=MetricRegistry())
    return app


async def scrape(app: FastAPI) -> str:
    status, body = await call(app, "GET", "/metrics")
    assert status == 200
    return body.decode()


async def test_counts_by_method_route_and_status() -> None:
    app = make_app()
    for item_id in (1, 2, 2):
        assert (await call(app, "GET", f"/items/{item_id}"))[0] == 200
    assert (await call(app, "GET", "/items/notanint"))[0] == 422
    assert (await call(app, "POST", "/items/1"))[0] == 405
    assert (await call(app, "BREW", "/items/1"))[0] == 405
    assert (await call(app, "GET", "/status/503"))[0] == 503
    with pytest.raises(RuntimeError):
        await call(app, "GET", "/boom")
    text = await scrape(app)

    route = "/items/{item_id}"
    assert (
        value(
            text,
            DURATION,
            http_request_method="GET",
            http_route=route,
            http_response_status_code="200",
        )
        == 3
    )
    assert value(text, DURATION, http_route=route, http_response_status_code="422") == 1
    assert value(text, DURATION, http_request_method="POST", http_route=route) == 1
    assert value(text, DURATION, http_request_method="_OTHER") == 1
    assert value(text, DURATION, http_route="/status/{code}", error_type="503") == 1
    assert (
        value(
            text,
            DURATION,
            http_route="/boom",
            http_response_status_code="500",
            error_type="RuntimeError",
        )
        == 1
    )
    assert (
        value(text, "plexichat_http_server_time_to_first_byte_seconds_count", http_route=route) == 6
    )
    # Body sizes: three JSON bodies of {"item_id":N}
    assert value(
        text,
        "http_server_response_body_size_bytes_sum",
        http_route=route,
        http_response_status_code="200",
    ) == 3 * len(b'{"item_id":1}')
    assert value(text, "http_server_active_requests", http_request_method="GET") == 0
    for labels in series(text, DURATION):
        assert labels["otel_scope_name"] == "plexichat.observability"


async def test_included_routers_are_labelled_with_their_full_template() -> None:
    app = make_app()
    assert (await call(app, "GET", "/api/v1/things/5"))[0] == 200
    text = await scrape(app)
    assert value(text, DURATION, http_route="/api/v1/things/{thing_id}") == 1


async def test_unknown_paths_add_one_series_not_one_per_url() -> None:
    app = make_app()
    await call(app, "GET", "/nowhere")
    before = len(series(await scrape(app), DURATION))
    for _ in range(10_000):
        assert (await call(app, "GET", f"/{uuid.uuid4().hex}"))[0] == 404
    text = await scrape(app)
    assert len(series(text, DURATION)) == before
    assert value(text, DURATION, http_response_status_code="404") == 10_001
    assert [ls.get("http_route", "") for ls in series(text, DURATION)] == [""] * before


async def test_excluded_paths_add_no_series() -> None:
    app = make_app()
    for _ in range(3):
        await call(app, "GET", "/healthz")
        await scrape(app)
    text = await scrape(app)
    assert value(text, DURATION) == 0
    assert series(text, DURATION) == []


async def test_exclusions_are_configurable() -> None:
    app = make_app(excluded_paths=["/metrics"])
    await call(app, "GET", "/healthz")
    assert value(await scrape(app), DURATION, http_route="/healthz") == 1


async def test_series_budget_folds_into_overflow_series() -> None:
    app = make_app(series_limit=3)
    for code in (200, 201, 202, 203, 204, 205):
        await call(app, "GET", f"/status/{code}")
    text = await scrape(app)
    assert len(series(text, DURATION)) == 4  # three attribute sets + the overflow series
    assert value(text, DURATION, otel_metric_overflow="true") == 3
    assert (
        value(text, "plexichat_metric_overflow_total", metric="http.server.request.duration") == 3
    )


async def test_process_metrics_are_exposed() -> None:
    app = make_app()
    text = await scrape(app)
    assert value(text, "process_memory_usage_bytes") > 1_000_000
    assert value(text, "plexichat_process_memory_limit_bytes") > 0
    assert 0 <= value(text, "process_cpu_utilization") <= 1
    assert value(text, "target_info", service_name="plexichat") == 1


@requires_tool("promtool")
async def test_promtool_finds_nothing_wrong_with_the_exposition() -> None:
    require_tool("promtool")
    app = make_app()
    await call(app, "GET", "/items/1")
    await call(app, "GET", "/status/500")
    text = await scrape(app)
    assert await asyncio.to_thread(promtool, "check", "metrics", stdin=text) == (0, "")


async def test_instrumenting_twice_is_a_no_op_and_it_can_be_undone() -> None:
    app = make_app()
    telemetry = installed_telemetry(app)
    assert telemetry is not None
    settings = telemetry.settings
    assert instrument_app(app, settings) is telemetry
    classes: list[object] = [m.cls for m in app.user_middleware]
    assert classes.count(TelemetryMiddleware) == 1
    uninstrument_app(app)
    assert installed_telemetry(app) is None
    assert (await call(app, "GET", "/metrics"))[0] == 404


async def test_monitoring_disabled_installs_nothing() -> None:
    app = FastAPI()
    settings = load_settings(environ={}, overrides={"performance": {"monitoring_enabled": False}})
    assert instrument_app(app, settings) is None
    assert app.user_middleware == []
    assert (await call(app, "GET", "/metrics"))[0] == 404


def app_with_prometheus(**prometheus: Any) -> FastAPI:
    app = FastAPI()

    @app.get("/metrics-like")
    async def metrics_like() -> dict[str, bool]:
        return {"app": True}

    settings = load_settings(
        environ={},
        overrides={"performance": {"metrics": {"exporters": {"prometheus": prometheus}}}},
    )
    instrument_app(app, settings, registry=MetricRegistry())
    return app


async def test_prometheus_exporter_can_be_disabled_and_moved() -> None:
    disabled = app_with_prometheus(enabled=False)
    assert (await call(disabled, "GET", "/metrics"))[0] == 404
    moved = app_with_prometheus(path="/internal/metrics")
    assert (await call(moved, "GET", "/metrics"))[0] == 404
    status, body = await call(moved, "GET", "/internal/metrics")
    assert status == 200
    assert b"target_info" in body
    uninstrument_app(disabled)
    uninstrument_app(moved)


async def test_a_configured_prometheus_port_adds_a_second_listener() -> None:
    port = free_port()
    app = app_with_prometheus(port=port)
    await call(app, "GET", "/metrics-like")
    try:
        async with httpx.AsyncClient() as client:
            response = await client.get(f"http://127.0.0.1:{port}/metrics")
        assert response.status_code == 200
        assert value(response.text, DURATION, http_route="/metrics-like") == 1
        assert (await call(app, "GET", "/metrics"))[0] == 200  # still on the app's own port
    finally:
        uninstrument_app(app)
    with pytest.raises(httpx.ConnectError):
        async with httpx.AsyncClient() as client:
            await client.get(f"http://127.0.0.1:{port}/metrics")


async def test_cpu_utilization_follows_what_the_process_burns() -> None:
    app = make_app()
    cpu0, wall0 = time.process_time(), time.monotonic()
    await scrape(app)  # opens a window
    cpu1, wall1 = time.process_time(), time.monotonic()
    while time.process_time() < cpu1 + 1.2:  # burn 1.2 s of CPU on one core
        pass
    cpu2, wall2 = time.process_time(), time.monotonic()
    busy = value(await scrape(app), "process_cpu_utilization")
    cpu3, wall3 = time.process_time(), time.monotonic()
    # The window lies between the two scrapes' own readings: whatever else the machine runs
    # (a busy CI host stretches the wall time of the burn), the value is bounded by what this
    # process really burnt over the inner and outer intervals.
    available = available_cpus()
    lowest = (cpu2 - cpu1) / (wall3 - wall0) / available
    highest = (cpu3 - cpu0) / (wall2 - wall1) / available
    assert lowest * 0.95 <= busy <= min(1.0, highest * 1.05), (lowest, busy, highest)
    # A scrape right after keeps reporting that window (too short a window is tick noise).
    assert value(await scrape(app), "process_cpu_utilization") == busy


async def test_rendering_metrics_does_not_stall_the_event_loop() -> None:
    app = make_app(series_limit=10_000)
    telemetry = installed_telemetry(app)
    assert telemetry is not None
    family = telemetry.registry.family(
        "test.wide", "histogram", "s", "Many series.", ("k",), boundaries=(0.1, 1.0), limit=10_000
    )
    for k in range(1_000):  # a large exposition: ~0.2 s to render
        family.histogram((str(k),)).record(0.5)
    scrape_task = asyncio.ensure_future(call(app, "GET", "/metrics"))
    await asyncio.sleep(0)  # let the scrape start and hand its rendering to a thread
    served = 0
    while not scrape_task.done():
        assert (await call(app, "GET", "/items/1"))[0] == 200
        served += 1
        await asyncio.sleep(0.01)  # leave the rendering thread most of the GIL
    assert (await scrape_task)[0] == 200
    assert served > 0  # requests completed while /metrics was being rendered
