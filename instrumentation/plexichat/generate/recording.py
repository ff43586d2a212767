"""Recording rules: the catalog's values per job at the guide's ``aggregation_intervals``.

Named ``level:metric:operation`` (``job:http_server_requests:rate5m``). Each is the catalog
entry's value, aggregated ``by (job)`` instead of into one number, so dashboards can draw a
day-long trend from one cheap series. A test checks each against the catalog query.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from plexichat.generate.options import Options


@dataclass(frozen=True)
class Recording:
    """One recorded value of a catalog entry: ``job:<metric>:<operation><window>``."""

    entry_id: str
    metric: str
    operation: str
    template: str  # PromQL with {window}

    def record(self, window: str) -> str:
        return f"job:{self.metric}:{self.operation}{window}"

    def expr(self, window: str) -> str:
        return self.template.replace("{window}", window)


def _mean(series: str) -> str:
    return (
        f"sum by (job) (rate({series}_sum[{{window}}]))\n"
        f"/ (sum by (job) (rate({series}_count[{{window}}])) > 0)"
    )


_HTTP = "http_server_request_duration_seconds"

RECORDINGS: tuple[Recording, ...] = (
    Recording("response_time", _HTTP, "mean", _mean(_HTTP)),
    Recording(
        "request_latency",
        "plexichat_http_server_time_to_first_byte_seconds",
        "p95_rate",
        "histogram_quantile(0.95, sum by (job, le) "
        "(rate(plexichat_http_server_time_to_first_byte_seconds_bucket[{window}]))) >= 0",
    ),
    Recording(
        "throughput",
        "http_server_requests",
        "rate",
        f"sum by (job) (rate({_HTTP}_count[{{window}}]))",
    ),
    Recording(
        "error_rate",
        "http_server_request_errors",
        "ratio_rate",
        f'(sum by (job) (rate({_HTTP}_count{{http_response_status_code=~"5.."}}[{{window}}]))\n'
        f"or sum by (job) (rate({_HTTP}_count[{{window}}])) * 0)\n"
        f"/ (sum by (job) (rate({_HTTP}_count[{{window}}])) > 0)",
    ),
    Recording(
        "db_query_time",
        "db_client_operation_duration_seconds",
        "mean",
        _mean("db_client_operation_duration_seconds"),
    ),
    Recording(
        "cache_hit_ratio",
        "plexichat_cache_lookups",
        "hit_ratio_rate",
        '(sum by (job) (rate(plexichat_cache_lookups_total{cache_result="hit"}[{window}]))\n'
        "or sum by (job) (rate(plexichat_cache_lookups_total[{window}])) * 0)\n"
        "/ (sum by (job) (rate(plexichat_cache_lookups_total[{window}])) > 0)",
    ),
)
"""The recorded value of each windowed catalog entry (the catalog's ``promql``, ``by (job)``)."""

ERROR_RATIO = RECORDINGS[3]
"""``job:http_server_request_errors:ratio_rate<w>``: the availability SLI, shared with slo.py."""


def recording(entry_id: str) -> Recording | None:
    return next((r for r in RECORDINGS if r.entry_id == entry_id), None)


def rules(options: Options) -> Iterator[dict[str, Any]]:
    for item in RECORDINGS:
        if item.entry_id not in options.catalog:
            continue
        for window in options.aggregation_intervals:
            yield {"record": item.record(window), "expr": item.expr(window)}


def groups(options: Options) -> list[dict[str, Any]]:
    return [{"name": "plexichat-recording", "rules": list(rules(options))}]
