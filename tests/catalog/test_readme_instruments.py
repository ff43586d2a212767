"""The README's "What it records" table says what the catalog defines: each row's instrument,
unit, Prometheus family and attribute names are the catalog's (the table is written by hand,
for its notes; this keeps it from drifting)."""

from __future__ import annotations

import re

from plexichat.catalog import Instrument, load_catalog
from tests.support.paths import ROOT

_ROW = re.compile(
    r"^\| `(?P<name>[a-z0-9_.]+)`(?: \((?P<unit>[^)]+)\))? "
    r"\| `(?P<prom>[\w*]+)` \| ?(?P<rest>.*?) ?\|$"
)
_CODE = re.compile(r"`([^`]+)`")


def _rows() -> list[dict[str, str]]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    table = text.split("What it records", 1)[1].split("\n\n", 2)[1]
    rows = [m.groupdict() for line in table.splitlines() if (m := _ROW.match(line))]
    assert len(rows) == len(table.splitlines()) - 2, table  # every data row parsed
    return rows


def test_every_row_is_its_catalog_instrument() -> None:
    catalog = load_catalog()
    known_attributes = {a for i in catalog.instruments for a in i.attributes}
    problems = []
    previous: Instrument | None = None
    for row in _rows():
        spec = catalog.instrument(row["name"])
        if row["unit"] is not None and row["unit"] != spec.unit:
            problems.append(f"{spec.name}: unit {row['unit']!r}, catalog {spec.unit!r}")
        if row["prom"].removesuffix("_*") not in (spec.prometheus_name, spec.prometheus_series):
            problems.append(
                f"{spec.name}: Prometheus {row['prom']!r}, catalog {spec.prometheus_name!r}"
            )
        if row["rest"] == "same":
            assert previous is not None
            named = set(previous.attributes)
        else:
            named = {c for c in _CODE.findall(row["rest"]) if c in known_attributes}
        if named != set(spec.attributes):
            problems.append(
                f"{spec.name}: attributes {sorted(named)}, catalog {list(spec.attributes)}"
            )
        previous = spec
    assert problems == []
