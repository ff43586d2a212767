"""Values in Grafana's units, as a panel would print them (``s``, ``percentunit``, ``reqps``,
``ops``, ``short``, ``bytes``, ``Bps``, ``none``), and Grafana's named colours."""

from __future__ import annotations

import math

from plexichat.config.sizes import GiB, KiB, MiB, TiB

COLORS = {
    "green": "#73BF69",
    "yellow": "#FADE2A",
    "orange": "#FF9830",
    "red": "#F2495C",
    "blue": "#5794F2",
    "purple": "#B877D9",
    "text": "#333333",
}
"""Grafana's named colours (its default palette's ``semi-dark`` shades)."""
PALETTE = ("#7EB26D", "#EAB839", "#6ED0E0", "#EF843C", "#E24D42", "#1F78C1", "#BA43A9", "#705DA0")
"""Grafana's classic palette, for series."""


def color(name: str | None) -> str:
    """The hex colour of Grafana colour ``name`` (a hex colour passes through; none: the text
    colour)."""
    if not name:
        return COLORS["text"]
    return COLORS.get(name, name)  # a hex colour passes through


def _si(value: float, suffix: str) -> str:
    magnitude = abs(value)
    for factor, prefix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if magnitude >= factor:
            return f"{value / factor:.3g} {prefix}{suffix}".rstrip()
    return f"{value:.3g} {suffix}".rstrip()


def _seconds(value: float) -> str:
    magnitude = abs(value)
    if magnitude == 0:
        return "0 s"
    if magnitude < 1e-3:
        return f"{value * 1e6:.3g} µs"
    if magnitude < 1:
        return f"{value * 1e3:.3g} ms"
    if magnitude < 60:
        return f"{value:.3g} s"
    if magnitude < 3600:
        return f"{value / 60:.3g} min"
    return f"{value / 3600:.3g} h"


def _bytes(value: float) -> str:
    magnitude = abs(value)
    for factor, suffix in ((TiB, "TiB"), (GiB, "GiB"), (MiB, "MiB"), (KiB, "KiB")):
        if magnitude >= factor:
            return f"{value / factor:.3g} {suffix}"
    return f"{value:.3g} B"


def format_value(value: float, unit: str | None) -> str:
    """``value`` as a Grafana panel prints it in ``unit`` (``0.25 s`` -> ``250 ms``)."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "∞" if value > 0 else "-∞"
    if unit == "s":
        return _seconds(value)
    if unit == "percentunit":
        return f"{value * 100:.3g} %"
    if unit == "percent":
        return f"{value:.3g} %"
    if unit == "reqps":
        return _si(value, "req/s")
    if unit == "ops":
        return _si(value, "ops/s")
    if unit == "bytes":
        return _bytes(value)
    if unit == "Bps":
        return f"{_bytes(value)}/s"
    return _si(value, "")
