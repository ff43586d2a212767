"""Every PromQL expression of the dashboards and rules parses (promtool) and names only series
the catalog defines (or the documented supporting series) — and the running service exposes
them: see ``tests/e2e/test_live_alerts.py`` for the live half and ``NOT_YET_EMITTED``."""

from __future__ import annotations

from pathlib import Path

import yaml

from plexichat.catalog import load_catalog
from plexichat.generate.series import PROMETHEUS_SERIES, SUPPORTING_SERIES
from tests.generate import support
from tests.support.tools import promtool

NOT_YET_EMITTED = frozenset(
    {
        # Exposed only once some metric exceeds its series budget (the overflow alert's input).
        # The cache series of issue 3 were listed here until the cache toolkit emitted them.
        "plexichat_metric_overflow",
    }
)
"""Series the dashboards/rules read that a healthy running service does not expose. The live
test fails when a listed series is in fact exposed, so the list only shrinks."""


def known_series() -> set[str]:
    catalog = load_catalog()
    names = {name.removesuffix("_total") for entry in catalog for name in entry.series}
    names |= {name.removesuffix("_total") for name in SUPPORTING_SERIES}
    return names | set(PROMETHEUS_SERIES)


def every_expression() -> list[tuple[str, str]]:
    found = [
        (f"{rule.get('alert') or rule.get('record')}", rule["expr"]) for rule in support.all_rules()
    ]
    for path in support.DASHBOARD_FILES:
        board = support.dashboard(path)
        found += [
            (f"{path.stem}: {title}", expr) for title, expr in support.dashboard_queries(board)
        ]
    return found


def test_every_expression_parses(tmp_path: Path) -> None:
    expressions = every_expression()
    rules = [
        {"record": f"check:expression:n{i}", "expr": expr}
        for i, (_, expr) in enumerate(expressions)
    ]
    path = tmp_path / "expressions.yaml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "parse", "rules": rules}]}))
    code, output = promtool("check", "rules", str(path))
    assert code == 0, output
    assert len(expressions) > 80


def test_expressions_name_only_catalog_supporting_or_recorded_series() -> None:
    known = known_series() | support.records()
    unknown = {
        (where, name)
        for where, expr in every_expression()
        for name in support.series_names(expr)
        if name.removesuffix("_total") not in known
    }
    assert unknown == set()
