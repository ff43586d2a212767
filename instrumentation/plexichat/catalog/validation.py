"""Naming and syntax rules, in one place: the catalog's, and the ones the rest of the code
shares (metric names, Prometheus durations).

Each ``check_*`` function returns its argument unchanged or raises ``ValueError`` with a
sentence that says what is wrong; the models call them from their validators. This module
imports nothing of ours, so every layer can use it.
"""

import itertools
import re
from collections.abc import Sequence

ENTRY_ID = re.compile(r"^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$")
"""Entry ids are snake_case: ``response_time``."""

OTEL_NAME = re.compile(r"^[a-z][a-z0-9_]*(?:\.[a-z][a-z0-9_]*)*$")
"""OTel instrument and attribute names: lowercase snake_case words joined by dots
(``http.server.request.duration``); also every metric name the instrumentation accepts."""

SNAKE_WORD = re.compile(r"^[a-z][a-z0-9_]*$")
"""One lowercase snake_case word: a performance-logger metric name (``messages_sent``, which
becomes ``plexichat.messages_sent``), the metric part of a recording rule's name."""

SERIES_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
"""A series another component exposes, as Prometheus' data model allows it (colons aside:
those are for recording rules): node_exporter's ``node_memory_MemAvailable_bytes`` keeps the
kernel's /proc/meminfo spelling."""

CONFIG_KEY = re.compile(r"^[a-z][a-z0-9_]*(?:\.[a-z][a-z0-9_]*)*$")
"""A dotted key below ``performance:`` (``latency_optimizer.max_latency_ms``)."""

DURATION = re.compile(
    r"^(?:\d+y)?(?:\d+w)?(?:\d+d)?(?:\d+h)?(?:\d+m)?(?:\d+s)?(?:\d+ms)?$",
)
"""A Prometheus duration (``30s``, ``5m``, ``1h30m``), as Prometheus' ParseDuration reads it:
units in descending order, each at most once (model/time.go)."""
_DURATION_PART = re.compile(r"(\d+)(ms|y|w|d|h|m|s)")
_DURATION_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_DURATION_SECONDS["y"] = 365 * 86400

GRAFANA_VARIABLE = re.compile(r"^\$(?:\w+|\{\w+\})$")
"""A Grafana template variable, accepted as a query window (``$__rate_interval``)."""

WINDOW = "{window}"
SELECTOR = "{selector}"


_ONLY_MATCHER = re.compile(r"\{\s*\{selector\}\s*\}")
_LAST_MATCHER = re.compile(r",\s*\{selector\}\s*\}")


def fill_selector(template: str, selector: str) -> str:
    """``template`` with its ``{selector}`` placeholders replaced by ``selector``; an empty
    selector leaves no braces or comma behind (``x{ {selector} }`` -> ``x``,
    ``x{a="b", {selector}}`` -> ``x{a="b"}``)."""
    if selector:
        return template.replace(SELECTOR, selector)
    return _LAST_MATCHER.sub("}", _ONLY_MATCHER.sub("", template))


def check_pattern(value: str, pattern: re.Pattern[str], what: str) -> str:
    """Return ``value``, or raise ``ValueError`` saying it is not ``what`` when ``pattern`` does
    not match it whole."""
    if not pattern.fullmatch(value):
        raise ValueError(f"{value!r} is not {what} (must match {pattern.pattern})")
    return value


def check_duration(value: str) -> str:
    """Return ``value``, or raise ``ValueError`` when it is not a non-zero Prometheus duration."""
    if value in ("", "0") or not DURATION.fullmatch(value):
        raise ValueError(
            f"{value!r} is not a Prometheus duration (expected e.g. 30s, 5m, 1h, 30d or 1h30m)"
        )
    return value


def duration_seconds(value: str) -> float:
    """``"1h30m"`` -> 5400.0."""
    check_duration(value)
    return float(sum(int(n) * _DURATION_SECONDS[u] for n, u in _DURATION_PART.findall(value)))


def check_window(value: str) -> str:
    """A query window: a Prometheus duration or a Grafana variable such as ``$__rate_interval``."""
    if GRAFANA_VARIABLE.fullmatch(value):
        return value
    return check_duration(value)


def check_strictly_increasing(values: Sequence[float]) -> Sequence[float]:
    """Return ``values``, or raise ``ValueError`` when empty or not strictly increasing
    (histogram bucket boundaries)."""
    if not values:
        raise ValueError("a histogram needs at least one bucket boundary")
    for low, high in itertools.pairwise(values):
        if not low < high:
            raise ValueError(f"bucket boundaries must be strictly increasing: {low} then {high}")
    return values


def series_read(template: str, series: Sequence[str]) -> list[str]:
    """The names of ``series`` that the template reads."""
    return [name for name in series if re.search(rf"\b{re.escape(name)}", template)]


def check_quantile(value: float, template: str) -> float:
    """Return ``value``, or raise ``ValueError`` when it is not a quantile (0..1, ends
    excluded) or the template does not take it with ``histogram_quantile(value, ...)``."""
    written = f"{value:.10g}"
    if not 0 < value < 1:
        raise ValueError(
            f"{written} is not a quantile between 0 and 1, ends excluded (0.95: the 95th "
            "percentile)"
        )
    if not re.search(rf"histogram_quantile\(\s*{re.escape(written)}\s*,", template):
        raise ValueError(f"the query takes no histogram_quantile({written}, ...)")
    return value


def check_template(template: str, series: Sequence[str], *, windowed: bool) -> str:
    """Check a PromQL template against the scheme documented in ``plexichat.catalog.loader``.

    ``{window}`` is present exactly when the entry is windowed, and every vector selector of
    a listed series ends with the ``{selector}`` placeholder.
    """
    if windowed and WINDOW not in template:
        raise ValueError(f"a windowed query must contain the {WINDOW} placeholder")
    if not windowed and WINDOW in template:
        raise ValueError(f"the query contains {WINDOW} but the entry is not windowed")
    if SELECTOR not in template:
        raise ValueError(f"the query must contain the {SELECTOR} placeholder")
    for name in series_read(template, series):
        for found in re.finditer(rf"\b{re.escape(name)}(?:_bucket|_sum|_count)?\b", template):
            rest = template[found.end() :]
            if not re.match(r"\{[^{}]*\{selector\}\s*\}", rest):
                raise ValueError(
                    f"the vector selector {found.group(0)} at offset {found.start()} must "
                    f"end with the {SELECTOR} placeholder as its last matcher"
                )
    return template
