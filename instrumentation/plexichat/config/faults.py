"""``faults``: our own top-level section, fault injection for demos and alert proofs.

Off by default. When ``enabled``, requests whose path matches one of ``routes`` (shell-style
globs, ``fnmatch``) are delayed by ``latency_ms`` and answered with ``status`` instead of
reaching the app with probability ``error_rate`` (``spread_statuses``: a status drawn from
500-599 each time, a label-cardinality fault), so a Compose user or a test can watch the alerts
fire and resolve. The other faults each provoke one alert of the catalog: ``db_latency_ms``
(slow queries), ``cache_miss_rate`` (lookups that find their key evicted from every tier),
``cpu_burn`` (a share of the process' CPUs kept busy) and ``memory_fill`` (resident memory
grown to a share of the memory limit, never beyond it, released when the fault ends) and
``task_failure_rate`` (background refreshes and warm-ups that fail, retried as
``background_tasks`` says); under
``serve --workers N`` each worker applies them, so CPU and memory pressure add up. Refused
under the production profile (``check_faults_allowed``, called by ``load_settings``).

``plexichat-obs serve --fault error_rate=0.2,latency_ms=300`` is ``parse_fault_spec`` plus
``enabled: true``.

``control_file`` is the runtime switch: while the service runs, the file's content (a fault spec
as ``--fault`` takes it, or ``off``) replaces the faults, within a second of a change, without a
restart (``plexichat-obs fault`` writes it; ``plexichat-obs up`` points the service at
``.stack/fault``). A missing file leaves the configured faults. Also refused under production.
"""

from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError

from plexichat.config.base import Section
from plexichat.config.errors import ConfigError
from plexichat.config.scalars import NonNegativeInt, UrlPath

REFUSED_PROFILES = frozenset({"production"})


class FaultsConfig(Section):
    """Fault injection: latency and errors on chosen routes, slow queries, cache misses, CPU
    and memory pressure."""

    enabled: bool = False
    error_rate: float = Field(default=0.0, ge=0.0, le=1.0)  # share of matching requests failed
    latency_ms: NonNegativeInt = 0  # added before every matching request
    status: int = Field(default=503, ge=500, le=599)  # the status of an injected failure
    routes: list[UrlPath] = Field(default_factory=lambda: ["/api/*"])  # path globs
    spread_statuses: bool = False  # injected failures get a status drawn from 500-599
    db_latency_ms: NonNegativeInt = 0  # added to every database statement
    cache_miss_rate: float = Field(default=0.0, ge=0.0, le=1.0)  # lookups finding their key evicted
    cpu_burn: float = Field(default=0.0, ge=0.0, le=1.0)  # share of the process' CPUs kept busy
    memory_fill: float = Field(default=0.0, ge=0.0, le=0.99)  # resident memory / memory limit
    task_failure_rate: float = Field(default=0.0, ge=0.0, le=1.0)  # background attempts failed
    control_file: Path | None = None  # runtime switch: a fault spec or "off", read on change

    @property
    def switchable(self) -> bool:
        """Whether faults may be injected at all while the service runs."""
        return self.enabled or self.control_file is not None

    def with_spec(self, text: str, source: str) -> "FaultsConfig":
        """These settings with the faults of ``text`` (a ``--fault`` spec, or ``off``/empty)
        instead of the current ones; ``ConfigError`` naming ``source`` and the key when a value
        is bad."""
        spec = text.strip()
        faults = {"enabled": False} if spec in ("", "off") else parse_fault_spec(spec, source)
        try:
            return FaultsConfig.model_validate({**faults, "control_file": self.control_file})
        except ValidationError as exc:
            problems = [
                f"faults.{'.'.join(str(p) for p in error['loc'])}: {error['msg']}"
                for error in exc.errors()
            ]
            raise ConfigError(source, problems) from None


def check_faults_allowed(faults: FaultsConfig, profile: str | None) -> None:
    """Raise ``ConfigError`` when fault injection is possible under a refused profile."""
    if faults.switchable and profile in REFUSED_PROFILES:
        raise ConfigError(
            "faults.enabled" if faults.enabled else "faults.control_file",
            f"fault injection is refused under the {profile!r} profile "
            "(use the development profile or none)",
        )


_FAULT_KEYS = (
    "error_rate",
    "latency_ms",
    "status",
    "routes",
    "spread_statuses",
    "db_latency_ms",
    "cache_miss_rate",
    "cpu_burn",
    "memory_fill",
    "task_failure_rate",
)


def parse_fault_spec(text: str, source: str = "--fault") -> dict[str, Any]:
    """``"error_rate=0.2,latency_ms=300"`` -> the ``faults`` section that enables those faults.

    ``routes=GLOB`` may be given more than once; values are checked by the model later.
    """
    faults: dict[str, Any] = {"enabled": True}
    routes: list[str] = []
    for part in filter(None, (piece.strip() for piece in text.split(","))):
        key, sep, value = part.partition("=")
        key = key.strip()
        if not sep or key not in _FAULT_KEYS:
            raise ConfigError(
                source,
                f"{part!r} is not KEY=VALUE with KEY one of {', '.join(_FAULT_KEYS)}",
            )
        if key == "routes":
            routes.append(value.strip())
        else:
            faults[key] = value.strip()
    if routes:
        faults["routes"] = routes
    return faults
