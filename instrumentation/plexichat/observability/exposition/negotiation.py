"""Which exposition format a scrape's ``Accept`` header asks for.

Prometheus lists every format it parses, each with a q-value; with
``--enable-feature=native-histograms`` (2.42) it puts the delimited protobuf first::

    application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.8,
    application/openmetrics-text;version=1.0.0;q=0.5,...,text/plain;version=0.0.4;q=0.2,*/*;q=0.1

:func:`wants_protobuf` is true when that protobuf range is among the most preferred ranges
of the header (highest q, ties won by the first listed); everything else goes to
prometheus_client's ``choose_encoder`` as before, so text and OpenMetrics stay what they were.
"""

from __future__ import annotations

from typing import NamedTuple

PROTOBUF = "application/vnd.google.protobuf"
PROTO = "io.prometheus.client.MetricFamily"


class MediaRange(NamedTuple):
    """One entry of an ``Accept`` header: type, lower-cased parameters (``q`` excluded) and
    quality (``1.0`` when absent, ``0.0`` when unreadable)."""

    media_type: str
    params: dict[str, str]
    quality: float


def media_ranges(accept: str) -> list[MediaRange]:
    """The entries of an ``Accept`` header, in order (empty ones dropped)."""
    ranges: list[MediaRange] = []
    for entry in accept.split(","):
        media_type, *rest = entry.split(";")
        media_type = media_type.strip().lower()
        if not media_type:
            continue
        params: dict[str, str] = {}
        quality = 1.0
        for param in rest:
            key, _, value = param.partition("=")
            key, value = key.strip().lower(), value.strip().strip('"')
            if key == "q":
                try:
                    quality = min(max(float(value), 0.0), 1.0)
                except ValueError:
                    quality = 0.0
            elif key:
                params[key] = value
        ranges.append(MediaRange(media_type, params, quality))
    return ranges


def _is_protobuf(media: MediaRange) -> bool:
    return (
        media.media_type == PROTOBUF
        and media.params.get("proto") == PROTO
        and media.params.get("encoding") == "delimited"
    )


def wants_protobuf(accept: str | None) -> bool:
    """Whether the scrape should get the delimited protobuf format (module docstring)."""
    ranges = [media for media in media_ranges(accept or "") if media.quality > 0]
    if not ranges:
        return False
    best = max(media.quality for media in ranges)
    return _is_protobuf(next(media for media in ranges if media.quality == best))
