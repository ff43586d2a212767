"""SLO rules: multi-window, multi-burn-rate alerts (the SRE workbook, as sloth and pyrra make them).

Two SLOs over ``Options.slo_window`` (30d by default):

- *availability*: the error-rate target (0.1 %) is the error budget, so the objective is 99.9 %;
  the SLI is the error rate's recording (``job:http_server_request_errors:ratio_rate<w>``);
- *latency*: 99 % of requests within the response-time alert threshold, which is a bucket
  boundary of ``http.server.request.duration`` (``Catalog.bucket_boundaries``), so the share
  of slow requests is exact.

Each SLO pages when 2 % of the budget burns in 1h (checked over 1h and 5m) or 5 % in 6h (6h and
30m), and opens a ticket for 10 % in 1d (1d, 2h) or 10 % in 3d (3d, 6h). The burn-rate factor is
``budget share * slo_window / long window``: 14.4, 6, 3 and 1 for 30 days.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from plexichat.catalog import MetricEntry
from plexichat.generate import promql, rules
from plexichat.generate.options import Options

LATENCY_OBJECTIVE = 0.99
"""Share of requests that must finish within the response-time alert threshold."""


@dataclass(frozen=True)
class BurnWindow:
    """One burn-rate alert: the share of the budget burnt within ``long`` (confirmed over
    ``short``) that fires it, and how it notifies."""

    long: str
    short: str
    budget_share: float  # of the whole budget, burnt within ``long``
    severity: str  # critical pages, warning makes a ticket
    for_: str


BURN_WINDOWS: tuple[BurnWindow, ...] = (
    BurnWindow("1h", "5m", 0.02, "critical", "2m"),
    BurnWindow("6h", "30m", 0.05, "critical", "15m"),
    BurnWindow("1d", "2h", 0.10, "warning", "1h"),
    BurnWindow("3d", "6h", 0.10, "warning", "3h"),
)


def burn_factor(window: BurnWindow, slo_window: str) -> float:
    """How many times faster than allowed ``window`` burns the budget of ``slo_window``: 14.4 for
    2 % in 1h of 30d."""
    return round(window.budget_share * promql.seconds(slo_window) / promql.seconds(window.long), 4)


@dataclass(frozen=True)
class Slo:
    """One service level objective: its alert's name, the objective (a share of requests), the
    SLI's recorded series (without the window) and a sentence for people."""

    name: str  # availability | latency
    alert: str
    objective: float
    sli_metric: str  # level:metric:operation without the window
    description: str

    @property
    def budget(self) -> float:
        """The error budget: the share of requests allowed to fail the objective."""
        return round(1 - self.objective, 6)

    def sli(self, window: str) -> str:
        """The SLI's recorded series over ``window``."""
        return f"{self.sli_metric}{window}"


def error_rate(options: Options) -> MetricEntry:
    """The availability SLI: the catalog's error rate, recorded."""
    entry = options.catalog["error_rate"]
    if entry.recording is None:
        raise ValueError("the availability SLO needs the error_rate entry's recording")
    return entry


def slos(options: Options) -> tuple[Slo, Slo]:
    """The availability and latency SLOs of ``options``' profile."""
    errors = error_rate(options)
    error_target = options.thresholds(errors).target.value
    latency = latency_threshold(options)
    return (
        Slo(
            "availability",
            "PlexichatAvailabilityBudgetBurn",
            round(1 - error_target, 6),
            errors.recorded(""),
            f"{promql.percent(1 - error_target)} of requests succeed (not HTTP 5xx)",
        ),
        Slo(
            "latency",
            "PlexichatLatencyBudgetBurn",
            LATENCY_OBJECTIVE,
            "job:http_server_requests_slow:ratio_rate",
            f"{promql.percent(LATENCY_OBJECTIVE)} of requests finish within "
            f"{promql.milliseconds(latency)}",
        ),
    )


def latency_threshold(options: Options) -> float:
    """The response-time alert threshold, checked to be a bucket boundary of the histogram."""
    entry = options.catalog["response_time"]
    alert = entry.thresholds(options.profile, options.settings).alert
    if alert is None:
        raise ValueError("the latency SLO needs the response_time alert threshold")
    boundaries = options.catalog.bucket_boundaries(entry.instrument.name)
    if alert.value not in boundaries:
        raise ValueError(
            f"response_time alert threshold {alert.value} s is not a bucket boundary of "
            f"{entry.instrument.name} ({boundaries})"
        )
    return alert.value


def windows(options: Options) -> list[str]:
    """Every SLI window the alerts read, shortest first."""
    found = {w for b in BURN_WINDOWS for w in (b.long, b.short)}
    return sorted(found, key=promql.seconds)


def _recording_rules(options: Options) -> Iterator[dict[str, Any]]:
    availability, latency = slos(options)
    threshold = latency_threshold(options)
    errors = error_rate(options)
    histogram = options.catalog["response_time"].instrument.prometheus_name
    for window in windows(options):
        if window not in options.aggregation_intervals:  # recording.py records those
            yield {"record": availability.sli(window), "expr": errors.query(options.window(window))}
        yield {
            "record": latency.sli(window),
            "expr": promql.slow_ratio(histogram, threshold, options.window(window)),
        }
    for slo in (availability, latency):
        yield {
            "record": slo.sli(options.slo_window),
            "expr": promql.average_over(slo.sli("5m"), options.window(options.slo_window)),
        }


def alert_rules(options: Options) -> Iterator[dict[str, Any]]:
    """The multi-window burn-rate alerts of both SLOs (two pages, two tickets each)."""
    for slo in slos(options):
        for window in BURN_WINDOWS:
            factor = burn_factor(window, options.slo_window)
            limit = f"({promql.number(factor)} * {promql.number(slo.budget)})"
            kind = "page" if window.severity == "critical" else "ticket"
            yield {
                "alert": slo.alert,
                "expr": promql.burning(
                    slo.sli(window.long), slo.sli(window.short), options.selector, limit
                ),
                "for": options.hold(window.for_),
                "labels": {
                    "severity": window.severity,
                    "slo": slo.name,
                    "long_window": window.long,
                    "short_window": window.short,
                    **options.alert_labels,
                },
                "annotations": {
                    "summary": (
                        f"{slo.name.capitalize()} SLO ({slo.description}) is burning its "
                        f"{options.slo_window} error budget {promql.number(factor)}x too fast: "
                        f"{{{{ $value | humanizePercentage }}}} bad over {window.long} "
                        f"(budget {promql.percent(slo.budget)}); {kind}."
                    ),
                    "runbook_url": options.runbook_url(rules.anchor(slo.alert)),
                },
            }


def groups(options: Options) -> list[dict[str, Any]]:
    """The rule groups of ``slo.yaml``: the SLIs' recordings, then the alerts."""
    return [
        {"name": "plexichat-slo-recording", "rules": list(_recording_rules(options))},
        {"name": "plexichat-slo-alerts", "rules": list(alert_rules(options))},
    ]
