"""``Options``: what a generation run is for (profile, job, runbook URL, SLO window, and for
test and demo stacks only, a time scale)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field

from plexichat.catalog import Catalog, MetricEntry, Thresholds, Watched, load_catalog
from plexichat.catalog.model import JOB
from plexichat.catalog.watched_loader import default_watched
from plexichat.config import load_settings
from plexichat.generate import promql

DEFAULT_RUNBOOK_BASE_URL = (
    "https://github.com/plexichat/plexichat-observability/blob/main/docs/runbooks.md"
)
"""Where ``runbook_url`` annotations point; ``#<anchor>`` of the alert's section is appended."""
DEFAULT_AGGREGATION_INTERVALS = ("1m", "5m", "1h", "1d")
"""The guide's ``metrics.aggregation_intervals``: the windows recording rules are made for."""


@dataclass(frozen=True)
class Options:
    """One generation run.

    ``profile`` ``None`` is the guide's table (what the Compose and Helm bundles ship); a profile
    applies the catalog's overrides and the profile's ``performance.yaml`` values the catalog
    ``follows``. ``job`` is the Prometheus job the rules select; ``slo_window`` the SLO period.
    ``watched`` is what the stack reads from others (``watched.yaml``); ``optional_sources``
    the optional ones of its sources the target runs (``postgres``): the rest of those get no
    rule and no panel.

    ``time_scale`` (1 for everything shipped) multiplies every ``for:`` and every range window
    of the rules, so that a demo or a test stack (``plexichat-obs up --time-scale``) sees
    alerts fire and resolve in minutes; ``min_window_s`` keeps a scaled window long enough for
    ``rate()`` to find two samples (four scrape intervals). Recorded series keep their names
    (``job:http_server_requests:rate5m`` reads a scaled window), so dashboards still work.
    """

    profile: str | None = None
    job: str = JOB
    runbook_base_url: str = DEFAULT_RUNBOOK_BASE_URL
    slo_window: str = "30d"
    catalog: Catalog = field(default_factory=load_catalog)
    aggregation_intervals: tuple[str, ...] = DEFAULT_AGGREGATION_INTERVALS
    settings: Mapping[str, float] = field(default_factory=dict)
    time_scale: float = 1.0
    min_window_s: float = 0.0
    watched: Watched = field(default_factory=default_watched)
    optional_sources: frozenset[str] = frozenset()

    @classmethod
    def for_profile(
        cls,
        profile: str | None = None,
        *,
        job: str = JOB,
        runbook_base_url: str = DEFAULT_RUNBOOK_BASE_URL,
        slo_window: str = "30d",
    ) -> Options:
        """Options for ``profile``: its followed settings and aggregation intervals loaded.

        Without a profile nothing is read from configuration: the guide's table is the answer.
        """
        if profile is None:
            return cls(job=job, runbook_base_url=runbook_base_url, slo_window=slo_window)
        catalog = load_catalog()
        config = load_settings(profile=profile, environ={})
        followed: dict[str, float] = {}
        for entry in catalog:
            for follow in (entry.follows.target, entry.follows.alert):
                if follow is not None:
                    followed[follow.key] = _config_number(config.performance, follow.key)
        return cls(
            profile=profile,
            catalog=catalog,
            settings=followed,
            aggregation_intervals=tuple(config.performance.metrics.aggregation_intervals),
            job=job,
            runbook_base_url=runbook_base_url,
            slo_window=slo_window,
        )

    def scaled(self, time_scale: float, min_window_s: float = 0.0) -> Options:
        """These options with time compressed (``time_scale`` < 1) or stretched."""
        if not time_scale > 0:
            raise ValueError(f"time scale must be > 0, got {time_scale}")
        return dataclasses.replace(self, time_scale=time_scale, min_window_s=min_window_s)

    def with_sources(self, optional_sources: frozenset[str]) -> Options:
        """These options for a target that runs the optional sources ``optional_sources``."""
        for job in optional_sources:
            if not self.watched.source(job).optional:
                raise ValueError(f"watched source {job!r} is not optional: it is always there")
        return dataclasses.replace(self, optional_sources=frozenset(optional_sources))

    @property
    def watched_jobs(self) -> tuple[str, ...]:
        """The watched sources' jobs this run generates for: every non-optional one, and the
        optional ones the target runs."""
        return tuple(
            source.job
            for source in self.watched.sources
            if not source.optional or source.job in self.optional_sources
        )

    @property
    def base_jobs(self) -> tuple[str, ...]:
        """The jobs of the sources every target runs: what the shared rule files and the
        Dependencies and Stack health dashboards are made of."""
        return tuple(source.job for source in self.watched.sources if not source.optional)

    @property
    def optional_jobs(self) -> tuple[str, ...]:
        """The jobs of the optional sources this run generates for, in the catalog's order:
        each gets a rule file and a dashboard of its own (:mod:`plexichat.generate.optional`)."""
        return tuple(job for job in self.watched_jobs if job not in self.base_jobs)

    def with_every_source(self) -> Options:
        """These options for a target that runs every optional source (what the bundles'
        per-source files are generated from)."""
        optional = frozenset(s.job for s in self.watched.sources if s.optional)
        return self.with_sources(optional)

    def window(self, duration: str) -> str:
        """A range window (``[5m]``) under the time scale; unchanged at scale 1."""
        if self.time_scale == 1:
            return duration
        return promql.duration(max(promql.seconds(duration) * self.time_scale, self.min_window_s))

    def hold(self, duration: str) -> str:
        """A ``for:`` duration under the time scale; unchanged at scale 1."""
        if self.time_scale == 1:
            return duration
        return promql.duration(promql.seconds(duration) * self.time_scale)

    @property
    def selector(self) -> str:
        """The label matcher of every rule: ``job="plexichat"``."""
        return f'job="{self.job}"'

    @property
    def alert_labels(self) -> dict[str, str]:
        """Labels every alert carries, also when its expression aggregates them away, so that
        Alertmanager can group, inhibit and silence by ``service`` and ``job``."""
        return {"job": self.job, "service": self.job}

    def thresholds(self, entry: MetricEntry) -> Thresholds:
        """``entry``'s target and alert for this run's profile and followed settings."""
        return entry.thresholds(self.profile, self.settings)

    def runbook_url(self, anchor: str) -> str:
        """The URL of the runbook section ``anchor`` (``<runbook_base_url>#<anchor>``)."""
        return f"{self.runbook_base_url}#{anchor}"


def _config_number(section: object, key: str) -> float:
    value = section
    for part in key.split("."):
        value = getattr(value, part)
    if not isinstance(value, int | float):
        raise TypeError(f"performance.{key} is not a number, so no threshold can follow it")
    return float(value)
