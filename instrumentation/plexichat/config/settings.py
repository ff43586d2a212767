"""``Settings``: the root of the configuration tree, plus where its values came from."""

from pydantic import Field

from plexichat.config.base import Section
from plexichat.config.faults import FaultsConfig
from plexichat.config.performance import PerformanceConfig
from plexichat.config.service import ServiceConfig

KEY_SECTIONS = ("performance", "service", "faults")
"""The top-level keys a configuration source may use (besides the guide's aliases)."""


class Settings(Section):
    """Everything PlexiChat's observability reads, built by :func:`load_settings`.

    ``profile``, ``sources`` and ``explicit_keys`` record how the settings were loaded; they are
    not keys a source may set.
    """

    performance: PerformanceConfig = Field(default_factory=PerformanceConfig)
    service: ServiceConfig = Field(default_factory=ServiceConfig)
    faults: FaultsConfig = Field(default_factory=FaultsConfig)
    profile: str | None = None
    sources: list[str] = Field(default_factory=list)  # files and variables applied, in order
    explicit_keys: frozenset[str] = frozenset()  # dotted keys set by a source other than defaults
