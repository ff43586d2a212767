"""OpenTelemetry names as Prometheus names, in one place: what the OpenTelemetry
specification's Prometheus compatibility section says and opentelemetry-exporter-prometheus
does (its translation functions are private).

Names sanitised, the unit appended as a suffix (``s`` -> ``_seconds``, ``By`` -> ``_bytes``;
``{annotations}`` and ``1`` add none), attributes as label names. The catalog names each
instrument's Prometheus family with it, and the lean registry's exposition renders with it.
"""

from __future__ import annotations

import re

_NAME_INVALID = re.compile(r"[^a-zA-Z0-9:]+")
_LABEL_INVALID = re.compile(r"[^a-zA-Z0-9]+")
_ANNOTATION = re.compile(r"{.*}")
_UNITS = {
    "d": "days",
    "h": "hours",
    "min": "minutes",
    "s": "seconds",
    "ms": "milliseconds",
    "us": "microseconds",
    "ns": "nanoseconds",
    "By": "bytes",
    "KiBy": "kibibytes",
    "MiBy": "mebibytes",
    "GiBy": "gibibytes",
    "TiBy": "tibibytes",
    "KBy": "kilobytes",
    "MBy": "megabytes",
    "GBy": "gigabytes",
    "TBy": "terabytes",
    "m": "meters",
    "V": "volts",
    "A": "amperes",
    "J": "joules",
    "W": "watts",
    "g": "grams",
    "Cel": "celsius",
    "Hz": "hertz",
    "1": "",
    "%": "percent",
}
"""UCUM units as the specification's Prometheus compatibility section names them."""
_PER_UNITS = {
    "s": "second",
    "m": "minute",
    "h": "hour",
    "d": "day",
    "w": "week",
    "mo": "month",
    "y": "year",
}


def metric_name(name: str) -> str:
    """``http.server.request.duration`` -> ``http_server_request_duration``."""
    if name and name[0].isdigit():
        name = "_" + name[1:]
    return _NAME_INVALID.sub("_", name)


def label_name(key: str) -> str:
    """``http.route`` -> ``http_route``."""
    if key and key[0].isdigit():
        key = "_" + key[1:]
    return _LABEL_INVALID.sub("_", key)


def unit_suffix(unit: str) -> str:
    """The unit as a Prometheus name suffix (``s`` -> ``seconds``, ``{request}`` -> ``""``)."""
    unit = _ANNOTATION.sub("", unit)
    if unit in _UNITS:
        return _UNITS[unit]
    top, slash, bottom = unit.partition("/")
    if slash and _NAME_INVALID.sub("_", bottom):
        bottom = _NAME_INVALID.sub("_", bottom)
        top = _NAME_INVALID.sub("_", top)
        top = _UNITS.get(top, top)
        bottom = _PER_UNITS.get(bottom, bottom)
        return f"{top}_per_{bottom}" if top else f"per_{bottom}"
    return _NAME_INVALID.sub("_", unit).strip("_")


def family_name(name: str, unit: str) -> str:
    """The Prometheus family of instrument ``name`` in ``unit``, without a counter's
    ``_total``: ``http.server.request.duration`` in ``s`` ->
    ``http_server_request_duration_seconds`` (a name already ending in its unit keeps it)."""
    family, suffix = metric_name(name), unit_suffix(unit)
    if suffix and not family.endswith(f"_{suffix}"):
        family = f"{family}_{suffix}"
    return family
