"""Small helpers for writing PromQL and its numbers the same way everywhere."""

from __future__ import annotations

import re

from plexichat.catalog import MetricEntry

_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}
_PART = re.compile(r"(\d+)(ms|s|m|h|d|w|y)")


def seconds(duration: str) -> float:
    """``"1h30m"`` -> 5400.0 (Prometheus duration syntax)."""
    parts = _PART.findall(duration)
    if not parts or "".join(n + u for n, u in parts) != duration:
        raise ValueError(f"{duration!r} is not a Prometheus duration")
    return float(sum(int(n) * _UNITS[u] for n, u in parts))


def number(value: float) -> str:
    """A threshold as PromQL and humans write it: ``0.5``, ``500``, ``0.0144``."""
    return f"{value:.10g}"


def percent(ratio: float) -> str:
    return f"{ratio * 100:.10g} %"


def milliseconds(value: float) -> str:
    return f"{value * 1000:.10g} ms"


def display(entry: MetricEntry, value: float) -> str:
    """A value of ``entry`` in its display unit: ``500 ms``, ``1 %``, ``500 req/s``."""
    return f"{value * entry.scale:.10g} {entry.display_unit}"


def humanized(entry: MetricEntry) -> str:
    """An alert template that prints ``$value`` in the entry's unit."""
    if entry.value_unit == "s":
        return "{{ $value | humanizeDuration }}"
    if entry.value_unit == "1":
        return "{{ $value | humanizePercentage }}"
    return f"{{{{ $value | humanize }}}} {entry.display_unit}"


def le_label(boundary: float) -> str:
    """A bucket boundary as the ``le`` label the exposition writes it (``0.5``, ``1.0``)."""
    return repr(float(boundary))
