"""``scripts/bench exposition``: the time to render ``/metrics`` in each format for the
service's registry (``Telemetry.render_metrics``, the lock and the prometheus_client registry
included), populated as a busy instance's: every route x method x status series of the HTTP
histograms and the active-requests gauge, plus the process gauges and ``target_info``.

Each format is rendered ``--repeat`` times after a warm-up; the median and the body size are
printed. A scrape every 15 s (or 1 s in ``up``) makes these the cost of one scrape."""

from __future__ import annotations

import argparse
import statistics
import time

from plexichat.config import load_settings
from plexichat.observability.metrics.registry import MetricRegistry
from plexichat.observability.telemetry import Telemetry

FORMATS = {
    "text 0.0.4": "text/plain;version=0.0.4",
    "OpenMetrics 1.0": "application/openmetrics-text;version=1.0.0",
    "protobuf": (
        "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;"
        "encoding=delimited;q=0.8,application/openmetrics-text;version=1.0.0;q=0.5"
    ),
}


def populated(routes: int) -> Telemetry:
    telemetry = Telemetry(load_settings(), registry=MetricRegistry())
    for index in range(routes):
        for method in ("GET", "POST"):
            for status in (200, 404, 500):
                key = (
                    method,
                    f"/api/route{index}/{{id}}",
                    status,
                    "500" if status == 500 else None,
                )
                for value in (0.0004, 0.003, 0.04, 0.7):
                    telemetry.http_duration.histogram(key).record(value)
                    telemetry.http_ttfb.histogram(key).record(value / 2)
                    telemetry.http_body_size.histogram(key).record(value * 1e5)
        telemetry.http_active.counter(("GET", "http")).add(1)
    return telemetry


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/bench exposition", description=__doc__)
    parser.add_argument("--routes", type=int, default=20, help="routes (6 series each)")
    parser.add_argument("--repeat", type=int, default=50)
    args = parser.parse_args(argv)
    telemetry = populated(args.routes)
    try:
        print(f"{args.routes * 6} series per HTTP histogram, 3 histograms; median of {args.repeat}")
        print(f"{'format':<16} {'ms/render':>10} {'bytes':>9}")
        for name, accept in FORMATS.items():
            body, _ = telemetry.render_metrics(accept)
            times = []
            for _ in range(args.repeat):
                start = time.perf_counter()
                telemetry.render_metrics(accept)
                times.append(time.perf_counter() - start)
            print(f"{name:<16} {statistics.median(times) * 1e3:>10.2f} {len(body):>9}")
    finally:
        telemetry.shutdown()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
