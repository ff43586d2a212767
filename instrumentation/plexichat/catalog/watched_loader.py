"""Read ``watched.yaml`` into a :class:`~plexichat.catalog.watched.Watched`; every error names
the file, the source or entry, and the field (the layout is described in the file itself)."""

import functools
from collections.abc import Mapping, Sequence
from importlib.resources import files
from pathlib import Path
from typing import Any

import yaml

from plexichat.catalog import validation as v
from plexichat.catalog.errors import CatalogError
from plexichat.catalog.loader import item_label, validate
from plexichat.catalog.watched import Heartbeat, Source, Watched, WatchedEntry

SUPPORTED_VERSION = 1
TOP_LEVEL = ("version", "sources", "heartbeat", "entries")


def default_watched_path() -> Path:
    """The packaged ``watched.yaml``."""
    return Path(str(files("plexichat.catalog") / "watched.yaml"))


def load_watched(path: str | Path | None = None) -> Watched:
    """Load and check a watched catalog (the packaged ``watched.yaml`` by default)."""
    source = Path(path) if path is not None else default_watched_path()
    name = source.name
    try:
        document = yaml.safe_load(source.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CatalogError(f"{source}: cannot read the catalog: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise CatalogError(f"{name}: not valid YAML: {exc}") from None
    _check_top_level(document, name)
    sources = _sources(document["sources"], name)
    heartbeat = validate(
        Heartbeat, _mapping(document["heartbeat"], name, "heartbeat"), name, "heartbeat"
    )
    entries = [_entry(raw, i, name, sources) for i, raw in enumerate(document["entries"])]
    _check_entries(entries, sources, heartbeat, name)
    return Watched(sources.values(), heartbeat, entries)


@functools.cache
def default_watched() -> Watched:
    """The packaged watched catalog, loaded once per process (it is immutable)."""
    return load_watched()


def _check_top_level(document: object, name: str) -> None:
    if not isinstance(document, Mapping):
        raise CatalogError(f"{name}: the catalog must be a mapping with fields {list(TOP_LEVEL)}")
    unknown = sorted(set(document) - set(TOP_LEVEL))
    if unknown:
        raise CatalogError(f"{name}: unknown top-level field(s) {unknown}")
    missing = [field for field in TOP_LEVEL if field not in document]
    if missing:
        raise CatalogError(f"{name}: missing top-level field(s) {missing}")
    if document["version"] != SUPPORTED_VERSION:
        found = document["version"]
        raise CatalogError(f"{name}: field 'version': {found!r} is not {SUPPORTED_VERSION}")
    for section in ("sources", "entries"):
        if not isinstance(document[section], list) or not document[section]:
            raise CatalogError(f"{name}: field {section!r}: must be a non-empty list")


def _mapping(raw: object, name: str, where: str) -> Mapping[str, Any]:
    if not isinstance(raw, Mapping):
        raise CatalogError(f"{name}: {where}: must be a mapping")
    return raw


def _sources(raw_sources: list[Any], name: str) -> dict[str, Source]:
    found: dict[str, Source] = {}
    for index, raw in enumerate(raw_sources):
        where = item_label(raw, index, "job", "source")
        source = validate(Source, _mapping(raw, name, where), name, where)
        if source.job in found:
            raise CatalogError(f"{name}: {where}: field 'job': defined twice")
        found[source.job] = source
    return found


def _entry(raw: object, index: int, name: str, sources: Mapping[str, Source]) -> WatchedEntry:
    where = item_label(raw, index, "id", "entry")
    resolved = dict(_mapping(raw, name, where))
    wanted = resolved.get("source")
    if not isinstance(wanted, str) or wanted not in sources:
        raise CatalogError(
            f"{name}: {where}: field 'source': {wanted!r} names no job of the 'sources' section"
        )
    resolved["source"] = sources[wanted]
    for position, job in enumerate(resolved.get("jobs", ())):
        if job not in sources:
            raise CatalogError(
                f"{name}: {where}: field 'jobs.{position}': {job!r} names no job of the "
                "'sources' section"
            )
    return validate(WatchedEntry, resolved, name, where)


def _check_entries(
    entries: Sequence[WatchedEntry], sources: Mapping[str, Source], heartbeat: Heartbeat, name: str
) -> None:
    """Rules that span entries: unique ids and alert names, every listed series read."""
    ids: set[str] = set()
    alerts: set[str] = {heartbeat.name}
    for entry in entries:
        where = f"{name}: entry {entry.id!r}"
        if entry.id in ids:
            raise CatalogError(f"{where}: field 'id': duplicate id {entry.id!r}")
        ids.add(entry.id)
        if entry.alert is not None:
            if entry.alert.name in alerts:
                raise CatalogError(f"{where}: field 'alert.name': {entry.alert.name!r} twice")
            alerts.add(entry.alert.name)
        if entry.panel is None and entry.alert is None:
            raise CatalogError(f"{where}: neither a panel nor an alert: nothing shows it")
    for job, source in sources.items():
        queries = [e.promql for e in entries if e.source.job == job]
        unread = [s for s in source.series if not any(v.series_read(q, [s]) for q in queries)]
        if unread:
            raise CatalogError(
                f"{name}: source {job!r}: field 'series': {unread} are read by no entry"
            )
