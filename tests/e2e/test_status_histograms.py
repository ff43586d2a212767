"""``status`` names the histogram a quantile was taken of, on two real Prometheus 2.42 scraping
one real service: with ``--enable-feature=native-histograms`` (protobuf scrapes; the service's
duration histograms stored as native ones, their classic series not at all) the TTFB p95 row
says ``native histogram``; without it (text scrapes, classic series only) ``classic buckets,
bucket-bounded``. Other rows name none."""

from __future__ import annotations

import functools
import json
from pathlib import Path

import httpx
import pytest

from plexichat.catalog.model import JOB
from plexichat.generate import Options
from plexichat.stack.prometheus_api import PrometheusAPI
from plexichat.stack.status import MetricStatus, collect
from plexichat.stack.status_command import StatusOptions, run_status
from tests.support.prometheus_server import prometheus, query
from tests.support.service import Service, serving
from tests.support.stack import wait_for
from tests.support.tools import require_tool, requires_tool

pytestmark = requires_tool("prometheus")

OPTIONS = Options.for_profile(None)
QUANTILES = frozenset(entry.id for entry in OPTIONS.catalog if entry.quantile is not None)
"""The entries whose value is a quantile, as the catalog marks them."""


def _look(api: str, service: Service) -> list[MetricStatus]:
    """The rows of ``status``'s look at ``api`` once every quantile has a value (a request
    first: a rate to read); empty before."""
    httpx.get(f"{service.url}/api/posts/popular", timeout=5)
    with PrometheusAPI(api) as prometheus_api:
        rows = collect(prometheus_api, OPTIONS).metrics
    answered = all(row.value is not None for row in rows if row.id in QUANTILES)
    return rows if answered else []


def test_status_names_the_histogram_each_quantile_was_taken_of(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert QUANTILES  # the TTFB p95 at least
    binary = require_tool("prometheus")  # Debian's 2.42: native-only with the flag
    with serving(tmp_path / "svc") as service:
        port = int(service.url.rsplit(":", 1)[1])
        with (
            prometheus(binary, tmp_path / "native", {JOB: port}, ["native-histograms"]) as native,
            prometheus(binary, tmp_path / "classic", {JOB: port}) as classic,
        ):
            for api, histogram in ((native, "native"), (classic, "classic")):
                # the first scrape comes ~6 s after start, a rate needs the second
                rows = wait_for(functools.partial(_look, api, service), 30, f"a p95 at {api}")
                quantiles = [(r.histogram, r.value > 0) for r in rows if r.id in QUANTILES]
                assert quantiles == [(histogram, True)] * len(QUANTILES)
                others = [r for r in rows if r.id not in QUANTILES and r.value is not None]
                assert [r.histogram for r in others] == [None] * len(others)
                # the rows on the same histograms answer from either kind (native or classic)
                assert {"response_time", "throughput", "error_rate"} <= {r.id for r in others}
            assert others  # the classic server answers the means and rates: no histogram named
            # What the classic half reads is absent there, what the native half reads here.
            for entry in OPTIONS.catalog:
                if entry.id in QUANTILES:
                    family = entry.instrument.prometheus_series
                    assert query(native, f"{family}_bucket") == []
                    assert query(classic, f"histogram_count({family})") == []

            # What users read: the row's wording, and the JSON field.
            run_status(StatusOptions(prometheus=native, directory=tmp_path))
            assert "Request Latency (5m p95 TTFB, native histogram)" in capsys.readouterr().out
            json_output = StatusOptions(prometheus=classic, directory=tmp_path, json_output=True)
            run_status(json_output)
            shown = json.loads(capsys.readouterr().out)["metrics"]
            assert {m["id"]: m["histogram"] for m in shown}["request_latency"] == "classic"
