"""Read ``metrics.yaml`` into a ``Catalog``; every error names the file, the entry and the field.

File layout::

    version: 1
    metrics:
      - id: response_time
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

from collections.abc import Mapping, Sequence
from importlib.resources import files
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError
from pydantic_core import ErrorDetails

from plexichat.catalog import validation as v
from plexichat.catalog.catalog import Catalog
from plexichat.catalog.errors import CatalogError
from plexichat.catalog.model import MetricEntry

SUPPORTED_VERSION = 1
WINDOWED_KINDS = ("histogram", "counter")


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
    raw_entries = _top_level(document, name)
    entries = [_entry(raw, index, name) for index, raw in enumerate(raw_entries)]
    _check_catalog(entries, name)
    return Catalog(entries, source=source)


def _top_level(document: object, name: str) -> list[Any]:
    if not isinstance(document, Mapping):
        raise CatalogError(f"{name}: the catalog must be a mapping with 'version' and 'metrics'")
    unknown = sorted(set(document) - {"version", "metrics"})
    if unknown:
        raise CatalogError(f"{name}: unknown top-level field(s) {unknown}")
    if document.get("version") != SUPPORTED_VERSION:
        found = document.get("version")
        raise CatalogError(f"{name}: field 'version': {found!r} is not {SUPPORTED_VERSION}")
    metrics = document.get("metrics")
    if not isinstance(metrics, list) or not metrics:
        raise CatalogError(f"{name}: field 'metrics': must be a non-empty list of entries")
    return metrics


def _entry(raw: object, index: int, name: str) -> MetricEntry:
    label = _label(raw, index)
    if not isinstance(raw, Mapping):
        raise CatalogError(f"{name}: {label}: must be a mapping")
    try:
        return MetricEntry.model_validate(raw)
    except ValidationError as exc:
        error = exc.errors()[0]
        more = exc.error_count() - 1
        suffix = f" (and {more} more error{'s' if more > 1 else ''})" if more else ""
        raise CatalogError(f"{name}: {label}: {_describe(error)}{suffix}") from None


def _label(raw: object, index: int) -> str:
    entry_id = raw.get("id") if isinstance(raw, Mapping) else None
    return f"entry {entry_id!r}" if isinstance(entry_id, str) else f"entry #{index + 1}"


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
    instruments: dict[str, tuple[str, object]] = {}
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
                f"{where}: field 'series': {unread} read by neither promql nor breakdown.promql"
            )
        for position, instrument in enumerate(entry.instruments):
            first = instruments.setdefault(instrument.name, (entry.id, instrument))
            if first[1] != instrument:
                field = "instrument" if position == 0 else f"extra_instruments.{position - 1}"
                raise CatalogError(
                    f"{where}: field {field!r}: instrument {instrument.name!r} differs from its "
                    f"definition in entry {first[0]!r} (define it once with a YAML anchor)"
                )
