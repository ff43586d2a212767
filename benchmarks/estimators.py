"""The quantile estimators ``scripts/bench quantiles`` compares with the truth: one function per
estimator, each asking a real Prometheus, each returning ``None`` where it has nothing.

Two Prometheus servers scrape the same service: ``classic`` as the bundles run it, and
``native`` with ``--enable-feature=native-histograms``. Prometheus 2.42 with that flag stores
only the native buckets of a histogram that has them (keeping the classic ones too needs
``scrape_classic_histograms``, 2.45+), so the classic estimate is read from the server that
does not negotiate native histograms.

Both read the cumulative counts the service exposes, not a ``rate``: the service starts with
the run, so its counts are exactly this run's requests, and no window's extrapolation is mixed
into the interpolation error being measured.
"""

from __future__ import annotations

import json
import urllib.parse
import urllib.request
from collections.abc import Callable
from typing import Any

DURATION = "http_server_request_duration_seconds"
CLASSIC = "classic"
NATIVE = "native"


def query(api: str, promql: str) -> list[dict[str, Any]]:
    """An instant query's result vector; ``RuntimeError`` naming the query when it failed."""
    url = f"{api}/api/v1/query?{urllib.parse.urlencode({'query': promql})}"
    with urllib.request.urlopen(url, timeout=30) as resp:
        body = json.load(resp)
    if body.get("status") != "success":
        raise RuntimeError(f"{promql}: {body}")
    result: list[dict[str, Any]] = body["data"]["result"]
    return result


def scalar(api: str, promql: str) -> float | None:
    """The value of a one-sample query, ``None`` for no sample."""
    result = query(api, promql)
    if not result:
        return None
    if len(result) > 1:
        raise RuntimeError(f"{promql}: {len(result)} series, expected one")
    return float(result[0]["value"][1])


def classic(servers: dict[str, str], selector: str, q: float) -> float | None:
    """``histogram_quantile`` over the classic ``_bucket`` series."""
    api = servers[CLASSIC]
    return scalar(api, f"histogram_quantile({q}, sum by (le) ({DURATION}_bucket{{{selector}}}))")


def native(servers: dict[str, str], selector: str, q: float) -> float | None:
    """``histogram_quantile`` over the native histogram of the same name; ``None`` (shown as
    n/a) while Prometheus stores no native histogram for ``selector``."""
    api = servers[NATIVE]
    if not any("histogram" in s for s in query(api, f"{DURATION}{{{selector}}}")):
        return None
    return scalar(api, f"histogram_quantile({q}, sum({DURATION}{{{selector}}}))")


Estimator = Callable[[dict[str, str], str, float], float | None]
ESTIMATORS: dict[str, Estimator] = {CLASSIC: classic, NATIVE: native}
"""The table's columns, in order."""
