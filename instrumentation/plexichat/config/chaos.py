"""``chaos``: our own top-level section, fault injection for demos and alert proofs.

Off by default. When ``enabled``, requests whose path matches one of ``routes`` (shell-style
globs, ``fnmatch``) are delayed by ``latency_ms`` and answered with ``status`` instead of
reaching the app with probability ``error_rate``, so a Compose user or a test can watch the
error-rate and latency alerts fire and resolve. Refused under the production profile
(``check_chaos_allowed``, called by ``load_settings``).

``plexichat-obs serve --fault error_rate=0.2,latency_ms=300`` is ``parse_fault_spec`` plus
``enabled: true``.
"""

from typing import Any

from pydantic import Field

from .base import Section
from .errors import ConfigError
from .scalars import NonNegativeInt, UrlPath

REFUSED_PROFILES = frozenset({"production"})


class ChaosConfig(Section):
    """Fault injection: added latency and errors on chosen routes."""

    enabled: bool = False
    error_rate: float = Field(default=0.0, ge=0.0, le=1.0)  # share of matching requests failed
    latency_ms: NonNegativeInt = 0  # added before every matching request
    status: int = Field(default=503, ge=500, le=599)  # the status of an injected failure
    routes: list[UrlPath] = Field(default_factory=lambda: ["/api/*"])  # path globs


def check_chaos_allowed(enabled: bool, profile: str | None) -> None:
    """Raise ``ConfigError`` when fault injection is switched on under a refused profile."""
    if enabled and profile in REFUSED_PROFILES:
        raise ConfigError(
            "chaos.enabled",
            f"fault injection is refused under the {profile!r} profile "
            "(use the development profile or none)",
        )


_FAULT_KEYS = ("error_rate", "latency_ms", "status", "routes")


def parse_fault_spec(text: str) -> dict[str, Any]:
    """``"error_rate=0.2,latency_ms=300"`` -> the ``chaos`` section that enables those faults.

    ``routes=GLOB`` may be given more than once; values are checked by the model later.
    """
    chaos: dict[str, Any] = {"enabled": True}
    routes: list[str] = []
    for part in filter(None, (piece.strip() for piece in text.split(","))):
        key, sep, value = part.partition("=")
        key = key.strip()
        if not sep or key not in _FAULT_KEYS:
            raise ConfigError(
                "--fault",
                f"{part!r} is not KEY=VALUE with KEY one of {', '.join(_FAULT_KEYS)}",
            )
        if key == "routes":
            routes.append(value.strip())
        else:
            chaos[key] = value.strip()
    if routes:
        chaos["routes"] = routes
    return chaos
