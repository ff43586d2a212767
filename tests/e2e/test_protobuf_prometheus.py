"""The delimited protobuf ``/metrics`` end to end: two real Prometheus 2.42 scrape the real
service, one with ``--enable-feature=native-histograms`` (so it asks for protobuf first), one
without (OpenMetrics text). The protobuf one stores the service's duration histograms as
native histograms (the catalog's ``native:`` ones; 2.42 then keeps no classic series of them,
nor their buckets' exemplars) whose ``histogram_count`` and ``histogram_sum`` equal the text
scrape's ``_count`` and ``_sum``, and every other series as the text one does, with the same
values, bucket bounds aside (Prometheus formats a protobuf bound as Go does: ``le="1e+06"``).
The same Prometheus stores a hand-built native histogram served by
``plexichat.observability.exposition`` and answers ``histogram_count`` and
``histogram_quantile`` on it."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client import CollectorRegistry
from prometheus_client.metrics_core import Metric

from plexichat.catalog import default_catalog
from plexichat.generate import promql
from plexichat.observability.exposition import render
from plexichat.observability.exposition.native import NativeBuckets, NativeHistogramFamily
from tests.support.otlp_receiver import HttpReceiver
from tests.support.prometheus_server import prometheus, query
from tests.support.service import serving
from tests.support.tools import require_tool
from tests.support.workers import wait_for

pytestmark = pytest.mark.integration

STABLE = ("http_server_", "plexichat_http_server_")
"""Families that change only with requests (and /metrics is not measured): equal values."""
NATIVE_FAMILIES = frozenset(
    i.prometheus_name for i in default_catalog().instruments if i.native is not None
)
"""The service's histograms that carry native buckets (stored as native over protobuf)."""
CLASSIC_SUFFIXES = ("_bucket", "_count", "_sum")
NATIVE = NativeBuckets(
    schema=0,  # buckets (2^(i-1), 2^i]
    zero_threshold=0.001,
    zero_count=1,
    positive={0: 2, 1: 3, 4: 5},  # 4 is two empty buckets past 1: one span, zero deltas
    negative={1: 1},
)
NATIVE_SUM = 60.5


class NativeCollector:
    def collect(self) -> Iterator[Metric]:
        family = NativeHistogramFamily("native_demo_seconds", "A hand-built native histogram.")
        buckets = [("1.0", 3.0), ("2.0", 6.0), ("16.0", 11.0), ("+Inf", 12.0)]
        family.add_metric([], buckets, NATIVE_SUM, native=NATIVE)
        yield family


@contextmanager
def native_server() -> Iterator[int]:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(NativeCollector())

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body, content_type = render(registry, self.headers.get("Accept"))
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def stored(api: str) -> dict[tuple[tuple[str, str], ...], str]:
    """Every series of job ``svc`` (bounds as floats) and its latest value."""
    out = {}
    for series in query(api, '{job="svc"}'):
        if "histogram" in series:  # a native histogram: see native_totals
            continue
        labels = dict(series["metric"])
        if "le" in labels:
            labels["le"] = repr(float(labels["le"]))
        out[tuple(sorted(labels.items()))] = series["value"][1]
    return out


def stable(series: dict[tuple[tuple[str, str], ...], str]) -> dict[Any, str]:
    return {k: v for k, v in series.items() if dict(k)["__name__"].startswith(STABLE)}


def without_native_classics(series: dict[Any, str]) -> dict[Any, str]:
    """``series`` but the classic ``_bucket``/``_count``/``_sum`` of the native families."""
    return {
        k: v
        for k, v in series.items()
        if not any(dict(k)["__name__"] == f + s for f in NATIVE_FAMILIES for s in CLASSIC_SUFFIXES)
    }


def native_totals(api: str, family: str, classic: bool) -> tuple[float, float]:
    """(count, sum) of ``family`` over job svc: native (``histogram_count``) or classic."""
    if classic:
        count, total = f"sum({family}_count{{job='svc'}})", f"sum({family}_sum{{job='svc'}})"
    else:
        count = f"sum(histogram_count({family}{{job='svc'}}))"
        total = f"sum(histogram_sum({family}{{job='svc'}}))"
    values = [query(api, q) for q in (count, total)]
    return tuple(float(v[0]["value"][1]) if v else -1.0 for v in values)  # type: ignore[return-value]


def test_protobuf_scrape_stores_what_the_text_scrape_stores(
    tmp_path: Path, receiver: HttpReceiver
) -> None:
    binary = require_tool("prometheus")
    env = {
        "PLEXICHAT_PERFORMANCE__OBSERVABILITY__OTLP__ENDPOINT": receiver.endpoint,
        "PLEXICHAT_PERFORMANCE__OBSERVABILITY__OTLP__METRICS_ENABLED": "false",
        "PLEXICHAT_PERFORMANCE__OBSERVABILITY__TRACING__SAMPLER": "always_on",
    }
    with (
        serving(tmp_path / "svc", env) as service,
        native_server() as native_port,
    ):
        port = int(service.url.rsplit(":", 1)[1])
        with (
            prometheus(
                binary,
                tmp_path / "protobuf",
                {"svc": port, "native": native_port},
                ["native-histograms", "exemplar-storage"],
            ) as proto,
            prometheus(binary, tmp_path / "text", {"svc": port}, ["exemplar-storage"]) as text,
        ):
            with httpx.Client(base_url=service.url) as client:
                for _ in range(20):
                    client.get("/api/posts/popular")
                    client.get("/api/users/999999")
            # the first scrape comes ~6 s after start; then both catch up with the requests
            duration = "http_server_request_duration_seconds"
            assert duration in NATIVE_FAMILIES

            def same_totals() -> bool:
                native = native_totals(proto, duration, classic=False)
                return native[0] > 0 and native == native_totals(text, duration, classic=True)

            wait_for(same_totals, 60, "the native request count and sum to equal the classic")
            count, total = native_totals(proto, duration, classic=False)
            assert count >= 40  # the 40 requests above, and nothing lost
            p99 = query(proto, f"histogram_quantile(0.99, sum({duration}{{job='svc'}}))")
            assert 0 < float(p99[0]["value"][1]) <= total  # a duration, at most all of them
            # ... and stored no classic series of it (2.42 keeps one or the other)
            assert query(proto, f"{duration}_bucket{{job='svc'}}") == []
            # The generated quantile (dashboards, the catalog's TTFB p95) reads whichever the
            # server stores: the native histogram here, the classic buckets there. (Requests
            # from here on change the counts the series comparisons below wait to settle.)
            either = promql.histogram_quantile(0.95, duration, 'job="svc"', "1m")
            native_only, classic_only = either.split("\nor ")
            for api, alone in ((proto, native_only), (text, classic_only)):

                def positive(api: str = api) -> bool:  # not the NaN of a window without traffic
                    httpx.get(f"{service.url}/api/posts/popular", timeout=5)  # a rate to read
                    found = query(api, either)
                    return bool(found) and float(found[0]["value"][1]) > 0

                wait_for(positive, 30, f"the generated p95 at {api}")
                at = time.time()  # both at one instant: the counts move with every scrape
                value = query(api, either, at)[0]["value"][1]
                assert value == query(api, alone, at)[0]["value"][1]
            assert query(proto, classic_only) == []
            assert query(text, native_only) == []
            # Everything else as the text scrape stores it, request series with equal values.
            wait_for(
                lambda: stable(stored(proto)) == without_native_classics(stable(stored(text))),
                60,
                f"equal request series:\n{stable(stored(proto))}\n{stable(stored(text))}",
            )
            assert stable(stored(proto))  # not two empty sets
            # all series: the same names and labels (gauges such as CPU move between scrapes)
            assert set(stored(proto)) == set(without_native_classics(stored(text)))
            # and the protobuf one really came over protobuf: Go's formatting of the bound
            body = '{__name__="http_server_response_body_size_bytes_bucket",job="svc"}'
            assert {s["metric"]["le"] for s in query(proto, body)} >= {"1e+06", "1e+07"}
            assert {s["metric"]["le"] for s in query(text, body)} >= {"1000000.0", "10000000.0"}

            # the native histogram: stored as one, and its classic series not at all (2.42)
            selector = 'native_demo_seconds{job="native"}'
            wait_for(lambda: query(proto, f"histogram_count({selector})"), 30, "native series")
            assert query(proto, f"histogram_count({selector})")[0]["value"][1] == "12"
            assert float(query(proto, f"histogram_sum({selector})")[0]["value"][1]) == NATIVE_SUM
            median = float(query(proto, f"histogram_quantile(0.5, {selector})")[0]["value"][1])
            assert 1 < median <= 2  # the 6th of 12: past -1, zero and 2 in (0.5, 1]
            p95 = float(query(proto, f"histogram_quantile(0.95, {selector})")[0]["value"][1])
            assert 8 < p95 <= 16
            assert query(proto, 'native_demo_seconds_count{job="native"}') == []
