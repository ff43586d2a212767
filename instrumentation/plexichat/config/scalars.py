"""Validated scalar field types shared by the configuration models.

Each type says in its error what it expected, because that sentence ends up in the
``ConfigError`` the user reads (``'fast' is not a log level (expected DEBUG, INFO, ...)``).
"""

import re
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, Field

from plexichat.catalog.validation import check_duration

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
_RATE = re.compile(r"([1-9]\d*)/(second|minute|hour)")
_PERIODS = {"second": 1.0, "minute": 60.0, "hour": 3600.0}


def log_level(value: str) -> str:
    """A log level's canonical name (``warn`` -> ``WARNING``), or a ``ValueError``."""
    level = value.strip().upper()
    level = "WARNING" if level == "WARN" else level
    if level not in LOG_LEVELS:
        raise ValueError(f"{value!r} is not a log level (expected one of {', '.join(LOG_LEVELS)})")
    return level


def parse_rate(value: str) -> tuple[int, float]:
    """``"100/minute"`` -> ``(100, 60.0)``: the count and the period in seconds."""
    match = _RATE.fullmatch(value)
    if match is None:
        raise ValueError(
            f"{value!r} is not a rate (expected N/second, N/minute or N/hour, e.g. 100/minute)"
        )
    return int(match[1]), _PERIODS[match[2]]


def _log_level(value: object) -> object:
    if not isinstance(value, str):
        return value  # pydantic reports the wrong type
    return log_level(value)


def _rate(value: str) -> str:
    parse_rate(value)
    return value


def _url_path(value: str) -> str:
    if not value.startswith("/"):
        raise ValueError(f"{value!r} is not a URL path (expected it to start with '/')")
    return value


def _empty_is_none(value: object) -> object:
    return None if value == "" else value


def _http_url(value: str) -> str:
    if not re.fullmatch(r"https?://[^\s/]+(/\S*)?", value):
        raise ValueError(f"{value!r} is not a URL (expected http://host:port or https://...)")
    return value


LogLevel = Annotated[str, BeforeValidator(_log_level)]
"""A logging level name, stored upper-case (``debug`` -> ``DEBUG``; ``WARN`` -> ``WARNING``)."""
Rate = Annotated[str, AfterValidator(_rate)]
"""A request rate such as ``100/minute``."""
PromDuration = Annotated[str, AfterValidator(check_duration)]
"""A Prometheus duration such as ``30d`` or ``1h30m``."""
UrlPath = Annotated[str, AfterValidator(_url_path)]
"""An absolute URL path such as ``/metrics``."""
HttpUrl = Annotated[str, AfterValidator(_http_url)]
"""An ``http://`` or ``https://`` URL, kept as the string the user wrote."""
OptionalHttpUrl = Annotated[HttpUrl | None, BeforeValidator(_empty_is_none)]
"""An ``HttpUrl`` or ``None`` (off); the empty string is ``None``, so an empty variable turns
it off as an empty ``OTEL_*`` variable does."""
Port = Annotated[int, Field(ge=1, le=65535)]
"""A TCP port to connect to or to listen on."""
PositiveInt = Annotated[int, Field(gt=0)]
NonNegativeInt = Annotated[int, Field(ge=0)]
Seconds = Annotated[float, Field(gt=0)]
"""A duration in (possibly fractional) seconds, greater than zero."""
