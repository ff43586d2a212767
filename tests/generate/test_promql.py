"""Every PromQL expression of the dashboards and rules parses (promtool) and names only series
of the catalog's instruments (or what Prometheus and the OpenTelemetry resource add) — and the
running service exposes them: see ``tests/e2e/test_live_alerts.py`` for the live half and
``NOT_YET_EMITTED``."""

from __future__ import annotations

from pathlib import Path

import yaml

from plexichat.catalog import load_catalog
from plexichat.generate import dependencies, node, postgres, watchers
from tests.generate import support
from tests.support.tools import promtool, requires_tool

NOT_YET_EMITTED = frozenset(
    {
        # Exposed only once some metric exceeds its series budget (the overflow alert's input).
        # The cache series of issue 3 were listed here until the cache toolkit emitted them.
        "plexichat_metric_overflow",
        # The performance logger's timers were listed here until the service timed its own
        # operations (post_create, feed_read, ...).
    }
)
"""Series the dashboards/rules read that a healthy running service does not expose. The live
test fails when a listed series is in fact exposed, so the list only shrinks."""


NOT_INSTRUMENTS = frozenset({"up", "ALERTS", "target_info"})
"""Series that are no instrument: Prometheus' own (``up``, ``ALERTS``) and the OpenTelemetry
resource (``target_info``, the job and instance variables)."""


def known_series() -> set[str]:
    """The catalog's series, Prometheus' and OpenTelemetry's, and the series Prometheus and
    Alertmanager expose about themselves that the stack alerts read (``watchers.SERIES``,
    found on the real binaries by tests/e2e/test_watchers.py), and redis_exporter's that the
    dependency alerts read (``dependencies.SERIES``, tests/e2e/test_dependencies.py), and
    postgres_exporter's (``postgres.SERIES``, tests/e2e/test_postgres_exporter.py)."""
    watched = watchers.SERIES | dependencies.SERIES | postgres.SERIES | node.SERIES
    # As support.series_names reads them: an exporter's gauge named *_count is a family too.
    stack = set().union(*(support.series_names(f"{name}{{}}") for name in watched))
    return {i.prometheus_name for i in load_catalog().instruments} | NOT_INSTRUMENTS | stack


def read_series() -> set[str]:
    """The instruments' series the dashboards and rules read (not recorded ones)."""
    names = {name for _, expr in every_expression() for name in support.series_names(expr)}
    known = {i.prometheus_name for i in load_catalog().instruments}
    return {name.removesuffix("_total") for name in names} & known


def every_expression() -> list[tuple[str, str]]:
    found = [
        (f"{rule.get('alert') or rule.get('record')}", rule["expr"]) for rule in support.all_rules()
    ]
    for path in support.DASHBOARD_FILES:
        board = support.dashboard(path)
        found += [
            (f"{path.stem}: {title}", expr) for title, expr in support.dashboard_queries(board)
        ]
        found += [
            (f"{path.stem}: {name}", expr) for name, expr in support.annotation_queries(board)
        ]
    return found


@requires_tool("promtool")
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
