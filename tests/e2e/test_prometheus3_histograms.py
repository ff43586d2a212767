"""The shipped service job on a real Prometheus 3 (Debian forky's ``prometheus3``) scraping the
real service: it stores BOTH the native histograms and the classic ``_bucket``/``_count``/
``_sum`` series, with exemplars on the classic buckets; the generated quantile (the catalog's
TTFB p95, ``promql.histogram_quantile``) reads the native histogram there; and
``promql.le_matcher`` selects classic buckets as Prometheus 3 spells their bounds.

The job's settings and feature flags are the Compose bundle's (the chart's job is the same).
Where forky's Prometheus predates a key (``newer_keys.PROMETHEUS``) it gets what stood for the
key then: 3.5 to 3.7 read ``scrape_native_histograms: true`` as the ``native-histograms``
feature flag."""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

import httpx
import yaml

from plexichat.catalog import default_catalog
from plexichat.catalog.model import JOB
from plexichat.generate import promql
from tests.support import newer_keys
from tests.support.otlp_receiver import HttpReceiver
from tests.support.paths import ROOT
from tests.support.prometheus_server import exemplars, prometheus, query
from tests.support.service import serving
from tests.support.tools import require_tool, requires_tool, version
from tests.support.workers import wait_for

pytestmark = requires_tool("prometheus3")

SELECTOR = f'job="{JOB}"'
DURATION = "http_server_request_duration_seconds"
BODY = "http_server_response_body_size_bytes"  # bounds up to 1e7
TTFB = "plexichat_http_server_time_to_first_byte_seconds"


def shipped() -> tuple[dict[str, Any], list[str]]:
    """The Compose bundle's service job without its name and targets, and its feature flags,
    as forky's Prometheus reads them."""
    compose = ROOT / "compose" / "prometheus"
    config = yaml.safe_load((compose / "prometheus.yml").read_text())
    (job,) = (j for j in config["scrape_configs"] if j["job_name"] == JOB)
    settings = {k: v for k, v in job.items() if k not in ("job_name", "static_configs")}
    command = yaml.safe_load((compose / "command.yml").read_text())
    features = [
        feature
        for arg in command["services"]["prometheus"]["command"]
        if arg.startswith("--enable-feature=")
        for feature in arg.removeprefix("--enable-feature=").split(",")
    ]
    removed = newer_keys.strip([settings], newer_keys.PROMETHEUS, version("prometheus3"))
    return settings, features + newer_keys.stand_ins(removed)


def value(api: str, expr: str, at: float) -> float:
    (result,) = query(api, expr, at)
    return float(result["value"][1])


def test_prometheus3_stores_native_and_classic_histograms_with_exemplars(
    tmp_path: Path, receiver: HttpReceiver
) -> None:
    settings, features = shipped()
    assert settings["always_scrape_classic_histograms"] is True
    env = {
        "PLEXICHAT_PERFORMANCE__OBSERVABILITY__OTLP__ENDPOINT": receiver.endpoint,
        "PLEXICHAT_PERFORMANCE__OBSERVABILITY__OTLP__METRICS_ENABLED": "false",
        "PLEXICHAT_PERFORMANCE__OBSERVABILITY__TRACING__SAMPLER": "always_on",  # exemplars
    }
    started = time.time()
    with (
        serving(tmp_path / "svc", env) as service,
        prometheus(
            require_tool("prometheus3"),
            tmp_path / "prometheus",
            {JOB: int(service.url.rsplit(":", 1)[1])},
            features,
            settings,
        ) as api,
        httpx.Client(base_url=service.url) as client,
    ):
        for _ in range(20):
            client.get("/api/posts/popular")
            client.get("/api/users/999999")
        native_count = f"sum(histogram_count({DURATION}{{{SELECTOR}}}))"
        classic_count = f"sum({DURATION}_count{{{SELECTOR}}})"

        def both_counted() -> bool:  # one instant: both come from the same scrapes
            at = time.time()
            native, classic = query(api, native_count, at), query(api, classic_count, at)
            return bool(native) and native == classic

        wait_for(both_counted, 60, "the native and the classic request count to agree")
        at = time.time()
        assert value(api, native_count, at) >= 40  # the requests above, nothing lost
        native_sum = value(api, f"sum(histogram_sum({DURATION}{{{SELECTOR}}}))", at)
        assert math.isclose(native_sum, value(api, f"sum({DURATION}_sum{{{SELECTOR}}})", at))
        for family in (DURATION, TTFB):  # both kinds of series of each, side by side
            assert all("histogram" in s for s in query(api, f"{family}{{{SELECTOR}}}")), family
            assert query(api, f"{family}_bucket{{{SELECTOR}}}"), family

        # Exemplars stay on the classic buckets: the trace ids of sampled requests.
        found = exemplars(api, f"{DURATION}_bucket{{{SELECTOR}}}", started, time.time() + 60)
        stored = [e["labels"] for series in found for e in series["exemplars"]]
        assert stored
        assert all(len(e["trace_id"]) == 32 and len(e["span_id"]) == 16 for e in stored)

        # The generated p95s read the native histogram where both are stored.
        native_only = f"histogram_quantile(0.95, sum by (job) (rate({TTFB}{{{SELECTOR}}}[1m])))"
        classic_only = (
            f"histogram_quantile(0.95, sum by (job, le) (rate({TTFB}_bucket{{{SELECTOR}}}[1m])))"
        )
        catalog_p95 = default_catalog()["request_latency"].query("1m", SELECTOR)

        def positive() -> bool:  # a window with traffic: not the NaN of none
            client.get("/api/posts/popular")
            found = query(api, catalog_p95)
            return bool(found) and float(found[0]["value"][1]) > 0

        wait_for(positive, 30, "the catalog's TTFB p95")
        at = time.time()
        native = value(api, native_only, at)
        assert native != value(api, classic_only, at)  # else the check below tells nothing
        assert value(api, catalog_p95, at) == native
        generated = promql.histogram_quantile(0.95, DURATION, SELECTOR, "1m")
        native_duration = f"histogram_quantile(0.95, sum (rate({DURATION}{{{SELECTOR}}}[1m])))"
        assert value(api, generated, at) == value(api, native_duration, at)

        # Prometheus 3 writes every bound as a float ("1.0"), from 1e6 up as Go does
        # ("1e+06", the response sizes'): the matcher of each selects it.
        for family, spelled in ((DURATION, "1.0"), (BODY, "1e+06")):
            bounds = {s["metric"]["le"] for s in query(api, f"{family}_bucket{{{SELECTOR}}}")}
            assert spelled in bounds
            for bound in bounds - {"+Inf"}:
                matcher = promql.le_matcher(float(bound))
                selected = query(api, f"{family}_bucket{{{SELECTOR}, {matcher}}}")
                assert {s["metric"]["le"] for s in selected} == {bound}, bound
