"""Naming and syntax rules of the catalog, in one place.

Each ``check_*`` function returns its argument unchanged or raises ``ValueError`` with a
sentence that says what is wrong; the models call them from their validators.
"""

import itertools
import re
from collections.abc import Sequence

ENTRY_ID = re.compile(r"^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$")
"""Entry ids are snake_case: ``response_time``."""

OTEL_NAME = re.compile(r"^[a-z][a-z0-9_.]*$")
"""OTel instrument and attribute names: lowercase, dotted (``http.server.request.duration``)."""

RECORDING_PART = re.compile(r"^[a-z][a-z0-9_]*$")
"""The metric part of a recording rule's name (``http_server_requests``)."""

CONFIG_KEY = re.compile(r"^[a-z][a-z0-9_]*(?:\.[a-z][a-z0-9_]*)*$")
"""A dotted key below ``performance:`` (``latency_optimizer.max_latency_ms``)."""

DURATION = re.compile(
    r"^(?:\d+y)?(?:\d+w)?(?:\d+d)?(?:\d+h)?(?:\d+m)?(?:\d+s)?(?:\d+ms)?$",
)
"""A Prometheus duration (``30s``, ``5m``, ``1h30m``), as Prometheus' ParseDuration reads it."""

GRAFANA_VARIABLE = re.compile(r"^\$(?:\w+|\{\w+\})$")
"""A Grafana template variable, accepted as a query window (``$__rate_interval``)."""

WINDOW = "{window}"
SELECTOR = "{selector}"

PROMETHEUS_UNIT_SUFFIXES = {"s": "seconds", "ms": "milliseconds", "By": "bytes", "1": ""}
"""Unit suffixes of the OpenTelemetry-to-Prometheus name mapping (the specification's
"Metric metadata" section, as opentelemetry-exporter-prometheus applies it) for the units we
use; an annotation such as ``{request}`` adds none."""
_UNIT_ANNOTATION = re.compile(r"^\{[^{}]+\}$")
_NOT_NAME = re.compile(r"[^a-zA-Z0-9:]+")
_NOT_LABEL = re.compile(r"[^a-zA-Z0-9]+")


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
    if not pattern.fullmatch(value):
        raise ValueError(f"{value!r} is not {what} (must match {pattern.pattern})")
    return value


def check_duration(value: str) -> str:
    if value in ("", "0") or not DURATION.fullmatch(value):
        raise ValueError(f"{value!r} is not a Prometheus duration such as '30s', '5m' or '1h'")
    return value


def check_window(value: str) -> str:
    """A query window: a Prometheus duration or a Grafana variable such as ``$__rate_interval``."""
    if GRAFANA_VARIABLE.fullmatch(value):
        return value
    return check_duration(value)


def check_unit(value: str) -> str:
    """A UCUM unit the Prometheus name mapping knows, or an annotation such as ``{request}``."""
    if value in PROMETHEUS_UNIT_SUFFIXES or _UNIT_ANNOTATION.fullmatch(value):
        return value
    known = ", ".join(PROMETHEUS_UNIT_SUFFIXES)
    raise ValueError(
        f"{value!r} is not one of {known} or an annotation such as '{{request}}' (another unit "
        "needs its Prometheus suffix in PROMETHEUS_UNIT_SUFFIXES)"
    )


def prometheus_family(name: str, unit: str) -> str:
    """``http.server.request.duration`` in ``s`` -> ``http_server_request_duration_seconds``."""
    family = _NOT_NAME.sub("_", name)
    suffix = PROMETHEUS_UNIT_SUFFIXES.get(unit, "")
    if suffix and not family.endswith(f"_{suffix}"):
        family = f"{family}_{suffix}"
    return family


def prometheus_label(attribute: str) -> str:
    """``http.response.status_code`` -> ``http_response_status_code``."""
    return _NOT_LABEL.sub("_", attribute)


def check_strictly_increasing(values: Sequence[float]) -> Sequence[float]:
    if not values:
        raise ValueError("a histogram needs at least one bucket boundary")
    for low, high in itertools.pairwise(values):
        if not low < high:
            raise ValueError(f"bucket boundaries must be strictly increasing: {low} then {high}")
    return values


def series_read(template: str, series: Sequence[str]) -> list[str]:
    """The names of ``series`` that the template reads."""
    return [name for name in series if re.search(rf"\b{re.escape(name)}", template)]


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
