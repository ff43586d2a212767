"""``PrometheusAPI``: the few calls of Prometheus' HTTP API that ``status`` and ``snapshot`` make.

Instant and range queries and the alert list, as plain values. Anything other than a success
is a ``PrometheusError`` naming the URL and what went wrong (unreachable, HTTP status, the
query Prometheus rejected and why).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import httpx


class PrometheusError(RuntimeError):
    """Prometheus could not be asked, or refused the question."""


@dataclass(frozen=True)
class Sample:
    """One series of an instant query: its labels and value."""

    labels: dict[str, str]
    value: float


@dataclass(frozen=True)
class Series:
    """One series of a range query: its labels and points."""

    labels: dict[str, str]
    points: list[tuple[float, float]]  # (unix time, value); NaN values dropped


def _number(text: str) -> float:
    return float(text)  # Prometheus writes "NaN", "+Inf", "-Inf": float() reads them all


class PrometheusAPI:
    """A client of one Prometheus' HTTP API (a context manager that closes it).

    Args:
        url: Prometheus' base URL, e.g. ``http://127.0.0.1:9090``.
        timeout_s: Per request, in seconds.

    Every call raises ``PrometheusError`` when Prometheus cannot be reached or refuses the query.
    """

    def __init__(self, url: str, timeout_s: float = 10.0) -> None:
        self.url = url.rstrip("/")
        self._client = httpx.Client(base_url=self.url, timeout=timeout_s)

    def close(self) -> None:
        """Close the HTTP connections."""
        self._client.close()

    def __enter__(self) -> PrometheusAPI:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        try:
            response = self._client.get(path, params=params)
        except httpx.HTTPError as exc:
            raise PrometheusError(f"cannot reach Prometheus at {self.url}: {exc}") from None
        try:
            body = response.json()
        except ValueError:
            raise PrometheusError(
                f"{self.url}{path} answered HTTP {response.status_code} without JSON "
                "(is this Prometheus?)"
            ) from None
        if body.get("status") != "success":
            query = f" for {params['query']!r}" if params and "query" in params else ""
            raise PrometheusError(
                f"{self.url}{path}{query}: {body.get('errorType', 'error')}: "
                f"{body.get('error', response.text)}"
            )
        return body["data"]

    def query(self, expr: str, at: float | None = None) -> list[Sample]:
        """The samples of ``expr`` now, or at Unix time ``at`` (a scalar is one unlabelled
        sample)."""
        params: dict[str, Any] = {"query": expr}
        if at is not None:
            params["time"] = at
        data = self._get("/api/v1/query", params)
        if data["resultType"] == "scalar":
            return [Sample({}, _number(data["result"][1]))]
        return [Sample(r["metric"], _number(r["value"][1])) for r in data["result"]]

    def query_range(self, expr: str, start: float, end: float, step: float) -> list[Series]:
        """The series of ``expr`` from ``start`` to ``end`` (Unix seconds) every ``step``
        seconds."""
        params = {"query": expr, "start": start, "end": end, "step": step}
        data = self._get("/api/v1/query_range", params)
        series = []
        for result in data["result"]:
            points = [(float(t), _number(v)) for t, v in result["values"]]
            series.append(Series(result["metric"], [p for p in points if not math.isnan(p[1])]))
        return series

    def alerts(self) -> list[dict[str, Any]]:
        """Every pending and firing alert: ``labels``, ``annotations``, ``state``, ``value``."""
        alerts: list[dict[str, Any]] = self._get("/api/v1/alerts")["alerts"]
        return alerts
