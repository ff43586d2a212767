"""Every metric family the service emits is the catalog's instrument, on ``/metrics`` and in OTLP.

The real service runs in-process, with a real Redis tier, under traffic that exercises every
instrument we emit (HTTP, database, cache tiers, rate limiting and body limits, compression,
the series budget, the performance logger's timers and business metrics); then each family of
a Prometheus scrape and of a decoded OTLP export is held to its catalog entry: name, kind,
unit, description and attribute names. A family the catalog does not define fails, except
the ones users create through the performance logger (``increment_counter("anything")`` is
the guide's API), which say so in their description. Both as one process and as a worker in
multi-worker mode, whose ``/metrics`` is rendered from the merged slot files.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from plexichat.catalog import Catalog, Instrument, default_catalog
from plexichat.config import load_settings
from plexichat.core.logging_unified import get_performance_logger
from plexichat.observability import Telemetry, installed_telemetry
from plexichat.service import create_app
from tests.support.otlp_receiver import HttpReceiver
from tests.support.redis_server import RedisServer

pytestmark = pytest.mark.integration

USER_DEFINED = "(recorded with the performance logger)."
"""How the performance logger describes a metric a user named (not ours to define)."""
SCOPE_LABELS = {"otel_scope_name", "otel_scope_version", "otel_scope_schema_url"}
"""Labels the Prometheus reader adds to every series from the instrumentation scope."""
OVERFLOW = "otel.metric.overflow"
"""OpenTelemetry's attribute on a family's overflow series (series budget reached)."""
SERIES_LIMIT = 6


@dataclass(frozen=True)
class Emitted:
    """One family as a reader delivered it."""

    name: str
    kind: str
    unit: str | None  # None: the format carries no unit (Prometheus text)
    description: str
    attributes: frozenset[str]


@pytest.fixture(params=["one process", "multi-worker"])
async def exercised(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    receiver: HttpReceiver,
    redis_server: RedisServer,
) -> AsyncIterator[tuple[str, HttpReceiver]]:
    """The service after traffic reaching every instrument: its scrape, and its OTLP export;
    once as one process, once as a worker in multi-worker mode (``/metrics`` is then the merge
    of the slot files, and the elected worker exports OTLP)."""
    workers = (
        {"multiprocess_dir": str(tmp_path / "slots")} if request.param == "multi-worker" else {}
    )
    settings = load_settings(
        environ={},
        overrides={
            "service": {"data_dir": str(tmp_path)},
            "performance": {
                "observability": {
                    "series_limit": SERIES_LIMIT,
                    "otlp": {"endpoint": receiver.endpoint, "timeout_seconds": 2},
                    **workers,
                },
                "latency_optimizer": {"compression": {"min_size": 64}},
                "caching": {
                    "memory_cache": {"max_size": 4096},  # evictions
                    "redis_cache": {"enabled": True, "port": redis_server.port},
                },
                "api": {
                    "max_request_size": 4096,
                    "rate_limiting": {
                        "default_rate": "20/minute",
                        "burst_rate": "40/minute",  # a bucket of 20
                        "client_header": "x-client",
                        "trusted_proxies": ["127.0.0.1"],
                    },
                },
            },
        },
    )
    app = create_app(settings)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://t") as c,
    ):
        for user in range(1, 6):
            gzip = {"x-client": f"reader{user}", "accept-encoding": "gzip"}
            assert (await c.get(f"/api/users/{user}/posts", headers=gzip)).status_code == 200
        assert (await c.get("/api/users/999999", headers={"x-client": "a"})).status_code == 404
        created = await c.post(
            "/api/users",
            json={"username": "conformance", "display_name": "C"},
            headers={"x-client": "b"},
        )
        assert created.status_code == 201
        message = {"sender_id": 1, "recipient_id": 2, "body": "hello"}
        sent = await c.post("/api/messages", json=message, headers={"x-client": "b"})
        assert sent.status_code == 201
        too_large = await c.post("/api/messages", content=b"x" * 8000, headers={"x-client": "c"})
        assert too_large.status_code == 413
        statuses = {
            (await c.get("/api/users/1", headers={"x-client": "flood"})).status_code
            for _ in range(25)
        }
        assert 429 in statuses
        # A timer of the application's own, as the guide's users write them.
        get_performance_logger().record_timer("conformance_check", 0.01)
        text = (await c.get("/metrics")).text
        if workers:  # the scrape was the merge of this worker's slot file
            assert list((tmp_path / "slots").glob("slot-*.db"))
        telemetry = installed_telemetry(app)
        assert isinstance(telemetry, Telemetry)
        assert telemetry.meter_provider.force_flush(timeout_millis=5000)
        yield text, receiver


def scraped(text: str) -> dict[str, Emitted]:
    found: dict[str, Emitted] = {}
    for family in text_string_to_metric_families(text):
        if family.name == "target_info":  # the OpenTelemetry resource, not an instrument
            continue
        labels = {label for sample in family.samples for label in sample.labels}
        found[family.name] = Emitted(
            family.name,
            family.type,
            None,
            family.documentation,
            frozenset(labels - SCOPE_LABELS - {"le"}),
        )
    return found


def exported(receiver: HttpReceiver) -> dict[str, Emitted]:
    found: dict[str, Emitted] = {}
    with receiver.received.lock:
        requests = list(receiver.received.metrics)
    for request in requests:
        for resource_metrics in request.resource_metrics:
            for scope_metrics in resource_metrics.scope_metrics:
                for metric in scope_metrics.metrics:
                    found[metric.name] = _otlp(metric)
    return found


def _otlp(metric: Any) -> Emitted:
    data = metric.WhichOneof("data")
    points = getattr(metric, data).data_points
    kind = {"sum": "counter" if metric.sum.is_monotonic else "updowncounter"}.get(data, data)
    attributes = frozenset(kv.key for point in points for kv in point.attributes)
    return Emitted(metric.name, kind, metric.unit, metric.description, attributes)


def _prometheus_index(catalog: Catalog) -> dict[str, Instrument]:
    return {instrument.prometheus_name: instrument for instrument in catalog.instruments}


def _problems(emitted: Emitted, spec: Instrument, *, prometheus: bool) -> list[str]:
    want_kind = spec.prometheus_type if prometheus else spec.kind
    want_attributes = set(spec.prometheus_labels if prometheus else spec.attributes)
    overflow = {OVERFLOW.replace(".", "_") if prometheus else OVERFLOW}
    problems = []
    if emitted.kind != want_kind:
        problems.append(f"kind {emitted.kind!r}, catalog {want_kind!r}")
    if emitted.unit is not None and emitted.unit != spec.unit:
        problems.append(f"unit {emitted.unit!r}, catalog {spec.unit!r}")
    if emitted.description != spec.description:
        problems.append(f"description {emitted.description!r}, catalog {spec.description!r}")
    if not emitted.attributes - overflow <= want_attributes:
        extra = sorted(emitted.attributes - overflow - want_attributes)
        problems.append(f"attributes {extra} not in the catalog's {sorted(want_attributes)}")
    return problems


async def test_every_scraped_family_is_its_catalog_instrument(
    exercised: tuple[str, HttpReceiver],
) -> None:
    text, _ = exercised
    by_prometheus_name = _prometheus_index(default_catalog())
    families = scraped(text)
    problems = {}
    for name, emitted in families.items():
        spec = by_prometheus_name.get(name)
        if spec is None:
            if not emitted.description.endswith(USER_DEFINED):
                problems[name] = ["no catalog instrument has this Prometheus name"]
            continue
        found = _problems(emitted, spec, prometheus=True)
        if found:
            problems[name] = found
    assert problems == {}
    missing = set(by_prometheus_name) - set(families)
    assert missing == set(), "catalog instruments the traffic did not reach"


async def test_every_exported_family_is_its_catalog_instrument(
    exercised: tuple[str, HttpReceiver],
) -> None:
    _, receiver = exercised
    catalog = default_catalog()
    metrics = exported(receiver)
    problems = {}
    for name, emitted in metrics.items():
        if not catalog.defines(name):
            if not emitted.description.endswith(USER_DEFINED):
                problems[name] = ["not in the catalog"]
            continue
        found = _problems(emitted, catalog.instrument(name), prometheus=False)
        if found:
            problems[name] = found
    assert problems == {}
    missing = {i.name for i in catalog.instruments} - set(metrics)
    assert missing == set(), "catalog instruments the OTLP export did not carry"


async def test_the_series_budget_overflowed_into_the_overflow_counter(
    exercised: tuple[str, HttpReceiver],
) -> None:
    """The scenario's own check: the overflow family above came from a real overflow."""
    text, _ = exercised
    overflow = {
        s.labels["metric"]
        for family in text_string_to_metric_families(text)
        if family.name == "plexichat_metric_overflow"
        for s in family.samples
    }
    assert "http.server.request.duration" in overflow
