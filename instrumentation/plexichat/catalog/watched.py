"""The typed form of ``watched.yaml``: what the stack reads from its dependencies and from the
alerting path itself (pydantic v2, unknown keys rejected).

A :class:`Source` is one scrape job (``redis``, ``prometheus``) and the series its component
exposes; a :class:`WatchedEntry` is a value read from one source's series -- a panel, an alert
when it has one -- with the same PromQL template scheme as ``metrics.yaml``
(``{selector}``, ``{window}``; see :mod:`.loader`). ``Watched`` holds them in file order.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, ValidationInfo, field_validator

from plexichat.catalog import validation as v
from plexichat.catalog.errors import CatalogError
from plexichat.catalog.model import (
    AlertOverride,
    Duration,
    EntryId,
    NonEmpty,
    Op,
    Profiles,
    _Model,
)

SourceKind = Literal["dependency", "watcher"]
"""``dependency``: a component the service uses (alerts/dependencies.yaml, the Dependencies
dashboard); ``watcher``: the alerting path (alerts/stack.yaml, the Stack health dashboard)."""
ALERT_NAME = re.compile(r"^(?:[A-Z][a-z0-9]*)+$")
"""``RedisDown``: PascalCase, no prefix (these alerts are about others, not Plexichat)."""
Job = Annotated[str, AfterValidator(lambda s: v.check_pattern(s, v.SNAKE_WORD, "a job name"))]
SeriesName = Annotated[
    str, AfterValidator(lambda s: v.check_pattern(s, v.SERIES_NAME, "a Prometheus series name"))
]


class Source(_Model):
    """One scrape job and the series of its component the entries read (besides ``up``)."""

    job: Job
    title: NonEmpty
    kind: SourceKind
    component: NonEmpty
    """What exposes the series (``redis_exporter beside Redis``), for the README."""
    series: tuple[SeriesName, ...] = Field(min_length=1)
    optional: bool = False
    """Run only when configured (PostgreSQL): a target without it gets none of its rules or
    panels."""


class WatchedAlert(_Model):
    """``value op value`` held for ``for``, and the runbook's text."""

    name: Annotated[str, AfterValidator(lambda s: v.check_pattern(s, ALERT_NAME, "PascalCase"))]
    op: Op
    value: float
    for_: Duration = Field(alias="for")
    severity: Literal["warning", "critical"]
    summary: NonEmpty
    """The alert's summary annotation (Prometheus templating: ``{{ $labels.instance }}``)."""
    meaning: NonEmpty
    first_look: NonEmpty


class Heartbeat(_Model):
    """The always-firing Watchdog (``vector(1)``, severity ``none``) and its runbook text."""

    name: Annotated[str, AfterValidator(lambda s: v.check_pattern(s, ALERT_NAME, "PascalCase"))]
    summary: NonEmpty
    meaning: NonEmpty
    first_look: NonEmpty


@dataclass(frozen=True)
class Resolved:
    """An entry's alert under one profile (``None`` where the profile switches it off)."""

    alert: WatchedAlert | None


class WatchedEntry(_Model):
    """A value read from one source's series; a panel, and an alert when ``alert`` is set."""

    id: EntryId
    source: Source
    jobs: tuple[Job, ...] = ()
    """The jobs ``{selector}`` matches (``job=~"a|b"``); empty: the source's job."""
    every_job: bool = False
    """``{selector}`` matches every job (``job!=""``): the scrape of every target."""
    title: NonEmpty
    description: NonEmpty
    window: Duration | None = None
    """The default window of a windowed query (``{window}`` in ``promql``)."""
    promql: NonEmpty
    value_unit: NonEmpty
    display_unit: NonEmpty
    scale: float = 1.0
    legend: NonEmpty = "{{instance}}"
    panel: NonEmpty | None = None
    """The dashboard panel that draws the value (entries naming one panel share it); ``None``:
    alert only."""
    alert: WatchedAlert | None = None
    profiles: Profiles = Profiles()

    @field_validator("promql")
    @classmethod
    def _promql(cls, value: str, info: ValidationInfo) -> str:
        source = info.data.get("source")
        series = (*source.series, "up") if isinstance(source, Source) else ("up",)
        v.check_template(value, series, windowed=info.data.get("window") is not None)
        if not v.series_read(value, series):
            raise ValueError(f"the query reads none of the source's series {list(series)}")
        return value

    @field_validator("profiles")
    @classmethod
    def _profiles(cls, value: Profiles, info: ValidationInfo) -> Profiles:
        for profile, override in value:
            if override is None:
                continue
            if override.target is not None:
                raise ValueError(f"{profile}: a watched entry has no target, only an alert")
            if override.alert is not None and info.data.get("alert") is None:
                raise ValueError(f"{profile}: overrides an alert the entry does not have")
        return value

    @property
    def selector(self) -> str:
        """The job matcher ``{selector}`` becomes: ``job="redis"``, ``job=~"a|b"``."""
        if self.every_job:
            return 'job!=""'
        if not self.jobs:
            return f'job="{self.source.job}"'
        return f'job=~"{"|".join(self.jobs)}"'

    def query(self, window: str | None = None) -> str:
        """The PromQL of the value (at ``window``, default the entry's)."""
        text = v.fill_selector(self.promql, self.selector)
        if self.window is None:
            return text
        chosen = window if window is not None else self.window
        try:
            v.check_window(chosen)
        except ValueError as exc:
            raise CatalogError(f"watched entry {self.id!r}: window: {exc}") from None
        return text.replace(v.WINDOW, chosen)

    def resolved(self, profile: str | None) -> Resolved:
        """The alert under ``profile`` (``None``: as the file gives it)."""
        if profile is None or self.alert is None:
            return Resolved(self.alert)
        override = getattr(self.profiles, profile, None)
        if override is None:
            return Resolved(self.alert)
        if "alert" in override.model_fields_set and override.alert is None:
            return Resolved(None)
        changes: AlertOverride | None = override.alert
        if changes is None:
            return Resolved(self.alert)
        return Resolved(self.alert.model_copy(update=changes.model_dump(exclude_none=True)))


class Watched:
    """The sources, the heartbeat and the entries of one ``watched.yaml``, in file order."""

    def __init__(
        self, sources: Iterable[Source], heartbeat: Heartbeat, entries: Iterable[WatchedEntry]
    ) -> None:
        self.sources: tuple[Source, ...] = tuple(sources)
        self.heartbeat = heartbeat
        self.entries: tuple[WatchedEntry, ...] = tuple(entries)
        self._by_job = {source.job: source for source in self.sources}

    def source(self, job: str) -> Source:
        """The source scraped as ``job``."""
        try:
            return self._by_job[job]
        except KeyError:
            known = ", ".join(self._by_job)
            raise KeyError(f"no watched source {job!r}; sources: {known}") from None

    def of(self, kind: str, jobs: Iterable[str] | None = None) -> tuple[WatchedEntry, ...]:
        """The entries of sources of ``kind``, only those of ``jobs`` when given."""
        wanted = None if jobs is None else set(jobs)
        return tuple(
            e
            for e in self.entries
            if e.source.kind == kind and (wanted is None or e.source.job in wanted)
        )

    def series(self, kind: str) -> frozenset[str]:
        """Every series the sources of ``kind`` expose that entries read."""
        return frozenset(s for src in self.sources if src.kind == kind for s in src.series)
