"""Read ``metrics.yaml`` into a ``Catalog``; every error names the file, the entry and the field.

File layout::

    version: 2
    instruments:          # every instrument we emit, defined once
      - name: http.server.request.duration
        kind: histogram
        ...
    metrics:              # the guide's table; each row names the instruments it reads
      - id: response_time
        instrument: http.server.request.duration
        ...
    alerts:               # optional: alerts on our own instruments beyond the table
      - name: PlexichatBackgroundTasksFailing
        instruments: [plexichat.background_tasks.finished]
        ...

PromQL template scheme
----------------------
``promql`` (and ``breakdown.promql``) is PromQL with exactly two placeholders, replaced as
literal text by ``MetricEntry.query(window, selector)``; it is *not* a ``str.format``
string, so PromQL's own braces are written as they are, never doubled.

``{window}``
    The range of every range selector: ``rate(x_count{ {selector} }[{window}])``. Present
    exactly when the entry is ``windowed`` (histograms and counters must be); the entry's
    ``window`` is the default. A Grafana variable (``$__rate_interval``) is accepted.
``{selector}``
    Zero or more label matchers, comma-separated, without braces (``job="plexichat"``).
    It is the *last* matcher of every vector selector of the entry's series:
    ``x{ {selector} }`` or ``x{code=~"5..", {selector}}``. An empty selector leaves
    ``x{ }`` or a trailing comma, both valid PromQL.

Values are in the unit of the PromQL result (``value_unit``: seconds, ratios 0..1, req/s),
and so are the thresholds; ``scale`` converts them for ``display_unit``.
"""

import functools
from collections.abc import Mapping, Sequence
from importlib.resources import files
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from plexichat.catalog import validation as v
from plexichat.catalog.alert_rule import AlertRule
from plexichat.catalog.catalog import Catalog
from plexichat.catalog.errors import CatalogError
from plexichat.catalog.model import Instrument, MetricEntry

SUPPORTED_VERSION = 2
WINDOWED_KINDS = ("histogram", "counter")
TOP_LEVEL = ("version", "instruments", "metrics", "alerts")
M = TypeVar("M", bound=BaseModel)


def default_path() -> Path:
    """The packaged ``metrics.yaml``."""
    return Path(str(files("plexichat.catalog") / "metrics.yaml"))


def load_catalog(path: str | Path | None = None) -> Catalog:
    """Load and check a catalog file (the packaged ``metrics.yaml`` by default)."""
    source = Path(path) if path is not None else default_path()
    name = source.name
    try:
        document = yaml.safe_load(source.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CatalogError(f"{source}: cannot read the catalog: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise CatalogError(f"{name}: not valid YAML: {exc}") from None
    raw_instruments = _top_level(document, name, "instruments")
    raw_entries = _top_level(document, name, "metrics")
    raw_alerts = document.get("alerts", [])
    if not isinstance(raw_alerts, list):
        raise CatalogError(f"{name}: field 'alerts': must be a list")
    instruments = _instruments(raw_instruments, name)
    entries = [_entry(raw, index, name, instruments) for index, raw in enumerate(raw_entries)]
    _check_catalog(entries, name)
    alerts = [_alert(raw, index, name, instruments) for index, raw in enumerate(raw_alerts)]
    _check_alerts(alerts, name)
    return Catalog(entries, instruments.values(), source=source, alerts=alerts)


@functools.cache
def default_catalog() -> Catalog:
    """The packaged catalog, loaded once per process (it is immutable)."""
    return load_catalog()


def _top_level(document: object, name: str, section: str) -> list[Any]:
    if not isinstance(document, Mapping):
        raise CatalogError(f"{name}: the catalog must be a mapping with fields {list(TOP_LEVEL)}")
    unknown = sorted(set(document) - set(TOP_LEVEL))
    if unknown:
        raise CatalogError(f"{name}: unknown top-level field(s) {unknown}")
    if document.get("version") != SUPPORTED_VERSION:
        found = document.get("version")
        raise CatalogError(f"{name}: field 'version': {found!r} is not {SUPPORTED_VERSION}")
    items = document.get(section)
    if not isinstance(items, list) or not items:
        raise CatalogError(f"{name}: field {section!r}: must be a non-empty list")
    return items


def _instruments(raw_instruments: list[Any], name: str) -> dict[str, Instrument]:
    found: dict[str, Instrument] = {}
    for index, raw in enumerate(raw_instruments):
        label = item_label(raw, index, "name", "instrument")
        if not isinstance(raw, Mapping):
            raise CatalogError(f"{name}: {label}: must be a mapping")
        instrument = validate(Instrument, raw, name, label)
        if instrument.name in found:
            raise CatalogError(f"{name}: {label}: field 'name': defined twice")
        found[instrument.name] = instrument
    return found


def _entry(
    raw: object, index: int, name: str, instruments: Mapping[str, Instrument]
) -> MetricEntry:
    label = item_label(raw, index, "id", "entry")
    if not isinstance(raw, Mapping):
        raise CatalogError(f"{name}: {label}: must be a mapping")
    resolved = dict(raw)
    for field in ("instrument", "extra_instruments"):
        if field not in raw:
            continue
        value = raw[field]
        names = value if field == "extra_instruments" and isinstance(value, list) else [value]
        for position, wanted in enumerate(names):
            where = field if field == "instrument" else f"{field}.{position}"
            if not isinstance(wanted, str) or wanted not in instruments:
                raise CatalogError(
                    f"{name}: {label}: field {where!r}: {wanted!r} names no instrument of the "
                    "'instruments' section"
                )
        picked = [instruments[wanted] for wanted in names]
        resolved[field] = picked[0] if field == "instrument" else picked
    return validate(MetricEntry, resolved, name, label)


def _alert(raw: object, index: int, name: str, instruments: Mapping[str, Instrument]) -> AlertRule:
    label = item_label(raw, index, "name", "alert")
    if not isinstance(raw, Mapping):
        raise CatalogError(f"{name}: {label}: must be a mapping")
    wanted = raw.get("instruments")
    resolved = dict(raw)
    if isinstance(wanted, list):
        for position, instrument in enumerate(wanted):
            if not isinstance(instrument, str) or instrument not in instruments:
                raise CatalogError(
                    f"{name}: {label}: field 'instruments.{position}': {instrument!r} names no "
                    "instrument of the 'instruments' section"
                )
        resolved["instruments"] = [instruments[i] for i in wanted]
    return validate(AlertRule, resolved, name, label)


def _check_alerts(alerts: Sequence[AlertRule], name: str) -> None:
    seen: set[str] = set()
    for alert in alerts:
        if alert.name in seen:
            raise CatalogError(f"{name}: alert {alert.name!r}: field 'name': defined twice")
        seen.add(alert.name)


def validate(model: type[M], raw: Mapping[str, Any], name: str, where: str) -> M:
    """``raw`` as a ``model``; the first error (and how many more) as a ``CatalogError`` naming
    file ``name``, ``where`` in it (``entry 'x'``) and the field."""
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        error = exc.errors()[0]
        more = exc.error_count() - 1
        suffix = f" (and {more} more error{'s' if more > 1 else ''})" if more else ""
        raise CatalogError(f"{name}: {where}: {_describe(error)}{suffix}") from None


def item_label(raw: object, index: int, key: str, what: str) -> str:
    """How errors name an item: ``entry 'response_time'`` by its ``key``, else by position."""
    value = raw.get(key) if isinstance(raw, Mapping) else None
    return f"{what} {value!r}" if isinstance(value, str) else f"{what} #{index + 1}"


def _describe(error: ErrorDetails) -> str:
    field = ".".join(str(part) for part in error["loc"])
    kind, ctx, given = error["type"], error.get("ctx", {}), error.get("input")
    if kind == "literal_error":
        expected = str(ctx.get("expected", "")).replace(" or ", ", ")
        message = f"{given!r} is not one of {expected}"
    elif kind == "extra_forbidden":
        message = "unknown field"
    elif kind == "missing":
        message = "is required"
    elif kind == "value_error":
        message = str(ctx.get("error", error["msg"]))
    else:
        message = f"{given!r}: {error['msg']}"
    return f"field {field!r}: {message}"


def _check_catalog(entries: Sequence[MetricEntry], name: str) -> None:
    """Rules that span fields or entries."""
    seen_ids: set[str] = set()
    for entry in entries:
        where = f"{name}: entry {entry.id!r}"
        if entry.id in seen_ids:
            raise CatalogError(f"{where}: field 'id': duplicate id {entry.id!r}")
        seen_ids.add(entry.id)
        if entry.instrument.kind in WINDOWED_KINDS and not entry.windowed:
            raise CatalogError(
                f"{where}: field 'windowed': a {entry.instrument.kind} is read with rate(), "
                "so the entry must be windowed"
            )
        queries = [entry.promql, entry.breakdown.promql if entry.breakdown else ""]
        unread = [s for s in entry.series if not any(v.series_read(q, [s]) for q in queries)]
        if unread:
            raise CatalogError(
                f"{where}: the series {unread} of its instruments are read by neither promql "
                "nor breakdown.promql"
            )
