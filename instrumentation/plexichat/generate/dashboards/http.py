"""*HTTP*: per-route rate, errors, latency percentiles and time to first byte; response sizes;
what the latency optimizer refused and what gzip saved."""

from __future__ import annotations

from typing import Any

from plexichat.generate import promql
from plexichat.generate.dashboards import board, panels
from plexichat.generate.options import Options

HTTP = "http_server_request_duration_seconds"
TTFB = "plexichat_http_server_time_to_first_byte_seconds"
BODY = "http_server_response_body_size_bytes"
REJECTED = "plexichat_http_server_rejected_total"
GZIP_IN = "plexichat_http_server_compression_input_bytes_total"
GZIP_OUT = "plexichat_http_server_compression_output_bytes_total"


def build(options: Options) -> dict[str, Any]:
    """The HTTP dashboard as Grafana 11 JSON, response time, throughput, error rate and time to
    first byte against ``options``' thresholds."""
    rt, tp, er = (options.catalog[k] for k in ("response_time", "throughput", "error_rate"))
    ttfb = options.catalog["request_latency"]
    rt_t, er_t, ttfb_t = options.thresholds(rt), options.thresholds(er), options.thresholds(ttfb)
    window = tp.window or "1m"
    cells = [
        panels.Cell(
            panels.timeseries(
                "Requests per second by route",
                "Rate of HTTP requests per route template (http.server.request.duration count).",
                [
                    panels.target(
                        promql.observed_rate(HTTP, panels.SELECTOR, window, ("http_route",)),
                        "{{http_route}}",
                    )
                ],
                "reqps",
            ),
            12,
            8,
        ),
        panels.Cell(
            panels.timeseries(
                "Error rate (5xx share)",
                f"{er.description}: HTTP 5xx over all requests. Target {er_t.target.op} "
                f"{er_t.target.value:.1%}; lines mark the target and the alert threshold.",
                [panels.target(er.query(selector=panels.SELECTOR), "all routes")],
                "percentunit",
                panels.steps(er, er_t),
            ),
            12,
            8,
        ),
        panels.Cell(
            panels.timeseries(
                "5xx per second by route",
                "Failed (HTTP 5xx) requests per second per route and status code.",
                [
                    panels.target(
                        promql.observed_rate(
                            HTTP,
                            f'http_response_status_code=~"5..", {panels.SELECTOR}',
                            window,
                            ("http_route", "http_response_status_code"),
                        ),
                        "{{http_route}} {{http_response_status_code}}",
                    )
                ],
                "reqps",
            ),
            12,
            8,
        ),
        panels.Cell(
            panels.timeseries(
                "Average response time by route",
                f"{rt.description} per route template. Target {rt_t.target.op} "
                f"{rt_t.target.value * 1000:g} ms.",
                [
                    panels.target(
                        rt.breakdown_query(selector=panels.SELECTOR) or "", "{{http_route}}"
                    )
                ],
                "s",
                panels.steps(rt, rt_t),
            ),
            12,
            8,
        ),
        panels.Cell(
            panels.timeseries(
                "Response time p50 / p95 / p99",
                "Percentiles of http.server.request.duration over all routes (from the "
                "histogram buckets, so exact at bucket edges only).",
                panels.quantiles(HTTP, rt.window or "5m"),
                "s",
                panels.steps(rt, rt_t),
            ),
            12,
            8,
        ),
        panels.Cell(
            panels.timeseries(
                "Time to first byte p50 / p95 / p99",
                f"{ttfb.description}. The guide's Request Latency is the p95: target "
                f"{ttfb_t.target.op} {ttfb_t.target.value * 1000:g} ms.",
                panels.quantiles(TTFB, ttfb.window or "5m"),
                "s",
                panels.steps(ttfb, ttfb_t),
            ),
            12,
            8,
        ),
    ]
    cells += [
        panels.Cell(
            panels.timeseries(
                "Response body size p50 / p95",
                "Percentiles of http.server.response.body.size over all routes (before gzip).",
                panels.quantiles(BODY, window, (0.5, 0.95), exemplars=False),
                "bytes",
            ),
            8,
            8,
        ),
        panels.Cell(
            panels.timeseries(
                "Refused by the latency optimizer",
                "Requests answered by the optimizer instead of the app, per second, by reason "
                "(plexichat.http.server.rejected): rate_limited (429), body_too_large (413), "
                "timeout (504).",
                [
                    panels.target(
                        f"sum by (reason) (rate({REJECTED}{{{panels.SELECTOR}}}[{window}]))",
                        "{{reason}}",
                    )
                ],
                "reqps",
            ),
            8,
            8,
        ),
        panels.Cell(
            panels.timeseries(
                "Compression ratio",
                "Bytes after gzip over bytes before, of the responses compressed "
                "(plexichat.http.server.compression.output / .input); lower saves more, "
                "1 when nothing was compressed (clients not accepting gzip, responses under "
                "compression.min_size).",
                [
                    panels.target(
                        f"sum(rate({GZIP_OUT}{{{panels.SELECTOR}}}[{window}]))\n"
                        f"/ (sum(rate({GZIP_IN}{{{panels.SELECTOR}}}[{window}])) > 0)\n"
                        f"or sum(rate({GZIP_IN}{{{panels.SELECTOR}}}[{window}])) * 0 + 1",
                        "output / input",
                    )
                ],
                "percentunit",
            ),
            8,
            8,
        ),
    ]
    return board.dashboard(
        "http",
        "PlexiChat / HTTP",
        "HTTP traffic of the PlexiChat service per route: rate, errors, latency.",
        cells,
        options,
    )
