"""Every shipped rule and dashboard query that reads a duration histogram works on both
stores: two real Prometheus 2.42 scrape one real service, one with native histograms on (it
stores those histograms as native ones and none of their ``_bucket``/``_count``/``_sum``
series), one without (classic series only). Each shipped recording rule, alert and dashboard
query over a native family gives the same label sets on both, with equal values -- within the
little that two servers scraping at different instants differ by (``rate`` extrapolates from
each one's own samples; windows shorter than 5m are widened to 5m, so that each reaches back
to the same first samples however slow the machine). So nothing the bundles generate goes
dark, or fires, when Prometheus switches to native histograms (``promql.histogram_quantile``,
``observed_rate``, ``mean``, ``slower_rate``, ``slow_ratio`` and the catalog's PromQL write
both halves)."""

from __future__ import annotations

import math
import re
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from plexichat.catalog import default_catalog
from plexichat.generate import promql
from tests.e2e.test_protobuf_prometheus import NATIVE_FAMILIES
from tests.generate import support
from tests.support.prometheus_server import prometheus, query
from tests.support.service import Service, serving
from tests.support.tools import require_tool, requires_tool
from tests.support.workers import wait_for

pytestmark = requires_tool("prometheus")

JOB = "plexichat"  # the shipped rules' and dashboards' job
FAULTS = "error_rate=1.0,latency_ms=700,routes=/api/fault/*"
"""Slow failures: past the latency SLO's 500 ms and HTTP 503, on a route of their own."""
REQUESTS = "http_server_request_duration_seconds"
ROUNDS = 8
"""Of traffic() before and after the first samples."""
SPAN_S = 8.0
"""Seconds of samples at least between the first scrape and the evaluation (8 or more, 1 s
apart): several times the 1.1 scrape intervals under which rate() extrapolation changes."""
TOLERANCE = 0.15
"""Relative difference allowed between the two servers' values: each extrapolates ``rate``
from its own scrape instants (1 s apart at most, over about 30 s of samples); ratios of two
rates of the same requests agree much closer."""
BUCKETS = {
    i.prometheus_name: (0.0, *i.buckets, math.inf)
    for i in default_catalog().instruments
    if i.native is not None
}
"""The native families' classic bucket boundaries (the first from 0: durations)."""
NATIVE_BUCKET_GROWTH = 2 ** (1 / 8)
"""How far apart a schema-3 native histogram's bucket boundaries are (the catalog's)."""


def expressions() -> list[tuple[str, str]]:
    """``(where, PromQL)`` of every shipped rule and dashboard query that reads a native
    family, and no recorded series (no rule is loaded here)."""
    found = [
        (f"record {r['record']}" if "record" in r else f"alert {r['alert']}", r["expr"])
        for r in support.all_rules()
    ]
    for path in support.DASHBOARD_FILES:
        data = support.dashboard(path)
        found += [(f"{path.stem}: {t}", e) for t, e in support.dashboard_queries(data)]
    return [
        (where, widened(expr))
        for where, expr in found
        if support.series_names(expr) & NATIVE_FAMILIES and ":" not in expr.replace("[", "")
    ]


def traffic(service: Service, rounds: int) -> None:
    """``rounds`` each of: a fast read, a 404 (a database lookup) and a slow injected 503."""
    with httpx.Client(base_url=service.url, timeout=10) as client, ThreadPoolExecutor(8) as pool:
        slow = [pool.submit(client.get, "/api/fault/slow") for _ in range(rounds)]
        for _ in range(rounds):
            assert client.get("/api/posts/popular").status_code == 200
            assert client.get("/api/users/999999").status_code == 404
        assert {f.result().status_code for f in slow} == {503}


def counts(api: str, native: bool) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every series' observation count of every native family of ``api``'s job: the native
    histogram's ``histogram_count`` or the classic ``_count``."""
    found = {}
    for family in sorted(NATIVE_FAMILIES):
        selector = f'{family}{{job="{JOB}"}}'
        expr = f"histogram_count({selector})" if native else selector.replace("{", "_count{", 1)
        for series in query(api, expr):
            labels = {k: v for k, v in series["metric"].items() if k != "__name__"}
            found[family, tuple(sorted(labels.items()))] = float(series["value"][1])
    return found


def scraped_alike(native: str, classic: str, minimum: float) -> bool:
    """Both servers last scraped the same state: every series of every native family with
    the same count on both, at least ``minimum`` requests in all."""
    got = counts(native, native=True)
    requests = sum(v for (family, _), v in got.items() if family == REQUESTS)
    return requests >= minimum and got == counts(classic, native=False)


def widened(expr: str) -> str:
    """``expr`` with every range shorter than 5m made 5m: the comparison needs each window to
    reach back past the first samples, which a loaded machine may push beyond 1m."""

    def widen(match: re.Match[str]) -> str:
        return "[5m]" if promql.seconds(match.group(1)) < 300 else match.group(0)

    return re.sub(r"\[([0-9]+[a-z]+)\]", widen, expr)


def values(api: str, expr: str, at: float) -> dict[tuple[tuple[str, str], ...], float]:
    return {tuple(sorted(s["metric"].items())): float(s["value"][1]) for s in query(api, expr, at)}


def close(a: float, b: float, expr: str = "") -> bool:  # expr: same_bucket's signature
    return math.isclose(a, b, rel_tol=TOLERANCE, abs_tol=1e-9) or (math.isnan(a) and math.isnan(b))


def same_bucket(native: float, classic: float, expr: str) -> bool:
    """Whether a native quantile lies in the classic bucket that holds the classic estimate
    (give or take one native bucket): where the true quantile is. The two differ inside it
    -- the classic one interpolates linearly between the bucket's bounds, which is the error
    native histograms remove (``scripts/bench quantiles`` measures both against the truth)."""
    if math.isnan(native) and math.isnan(classic):
        return True
    (bounds,) = [b for family, b in BUCKETS.items() if f"{family}_bucket" in expr]
    lower = max(b for b in bounds if b < classic) if classic > 0 else 0.0
    upper = min(b for b in bounds if b >= classic)
    return lower / NATIVE_BUCKET_GROWTH <= native <= upper * NATIVE_BUCKET_GROWTH


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Any:
    home = tmp_path_factory.mktemp("native-rules")
    binary = require_tool("prometheus")  # Debian's 2.42: native-only with the flag
    with serving(home / "svc", args=["--fault", FAULTS]) as service:
        port = int(service.url.rsplit(":", 1)[1])
        with (
            prometheus(binary, home / "native", {JOB: port}, ["native-histograms"]) as native,
            prometheus(binary, home / "classic", {JOB: port}, ["exemplar-storage"]) as classic,
        ):
            # Every label set first, scraped by both: a series' first sample is where its
            # rate starts, so what both count from here on is the same traffic. As much
            # before as after, over at least SPAN_S of samples: rate() extrapolates a classic
            # series towards the window's start no further than to where it would reach zero
            # (first value / increase of the sampled span), separately for _sum and _count, so
            # a small first value on a short span tilts a classic mean (by 27 % once, on a
            # 2 s span), which native histograms, extrapolated as one, never see.
            traffic(service, ROUNDS)
            wait_for(lambda: scraped_alike(native, classic, 3 * ROUNDS), 60, "the first scrape")
            primed = time.monotonic()
            traffic(service, ROUNDS)
            wait_for(lambda: scraped_alike(native, classic, 6 * ROUNDS), 60, "the last scrape")
            time.sleep(max(0.0, SPAN_S - (time.monotonic() - primed)))  # more samples, no wait
            yield native, classic, time.time()


def test_each_server_stores_only_its_kind(servers: Any) -> None:
    native, classic, at = servers
    assert query(native, f"{REQUESTS}_count", at) == []
    assert query(classic, REQUESTS, at) == []
    assert query(native, REQUESTS, at)  # a native histogram, then
    assert len(expressions()) >= 20  # the rules and panels compared below


@pytest.mark.parametrize(("where", "expr"), expressions(), ids=lambda v: v[:60])
def test_the_same_answer_from_native_and_classic_histograms(
    servers: Any, where: str, expr: str
) -> None:
    native, classic, at = servers
    from_native, from_classic = values(native, expr, at), values(classic, expr, at)
    assert from_native.keys() == from_classic.keys(), (where, from_native, from_classic)
    agree = same_bucket if "histogram_quantile" in expr else close
    different = {
        k: (v, from_classic[k])
        for k, v in from_native.items()
        if not agree(v, from_classic[k], expr)
    }
    assert different == {}, where
    if where.startswith("record "):  # the numbers dashboards, alerts and status read
        assert from_native, f"{where}: no data on either server"


def test_latency_and_error_alerts_cross_alike(servers: Any) -> None:
    native, classic, at = servers
    conditions = {r["alert"]: widened(r["expr"]) for r in support.alerts()}
    # A third of the requests are the injected 700 ms 503s: the p95 time to first byte and the
    # 5xx share cross their thresholds; the mean response time (~250 ms) does not, and the
    # request series are there (native or classic).
    for api in (native, classic):
        crossed = {name for name, expr in conditions.items() if query(api, expr, at)}
        assert {"PlexichatRequestLatencyHigh", "PlexichatErrorRateHigh"} <= crossed, api
        assert not {"PlexichatResponseTimeHigh", "PlexichatRequestSeriesAbsent"} & crossed, api
