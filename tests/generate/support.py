"""Reading generated artifacts back: rule files, dashboard queries, series names in PromQL."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
ALERTS = ROOT / "alerts"
DASHBOARDS = ROOT / "dashboards"
OPTIONAL = ROOT / "optional"
RULE_FILES = sorted(ALERTS.glob("*.yaml")) + sorted(OPTIONAL.glob("*/alerts.yaml"))
"""Every shipped rule file: the shared ones and each optional source's (optional/<job>/)."""


def loaded_name(path: Path) -> str:
    """A rule file's name where Prometheus loads it: ``alerts/x.yaml`` as ``x.yaml``,
    ``optional/<job>/alerts.yaml`` as ``<job>.yaml`` (as up writes it)."""
    return path.name if path.parent == ALERTS else f"{path.parent.name}.yaml"


DASHBOARD_FILES = sorted(DASHBOARDS.glob("*.json"))
UNIT_TESTS = sorted((Path(__file__).parent / "promtool").glob("*_test.yaml"))
"""The hand-written promtool unit tests of the generated rule files."""

GRAFANA_VARIABLES = {"$job": "plexichat", "$instance": ".+", "$__rate_interval": "1m"}
"""What a dashboard's variables become when its queries run against Prometheus
(``$__rate_interval``: Grafana's at the bundles' 15 s scrape interval, as ``snapshot`` fills it)."""

_SELECTED = re.compile(r"([a-zA-Z_:][a-zA-Z0-9_:]*)\s*[{\[]")
_LABEL_VALUES = re.compile(r"label_values\((.*),\s*\w+\)")
_SUFFIXES = ("_bucket", "_sum", "_count", "_total")


def rules(path: Path) -> list[dict[str, Any]]:
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [rule for group in document["groups"] for rule in group["rules"]]


def all_rules() -> list[dict[str, Any]]:
    return [rule for path in RULE_FILES for rule in rules(path)]


def alerts() -> list[dict[str, Any]]:
    return [rule for rule in all_rules() if "alert" in rule]


def records() -> set[str]:
    return {rule["record"] for rule in all_rules() if "record" in rule}


def dashboard(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def dashboard_queries(data: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """``(panel title, PromQL)`` of every panel target and query variable, variables filled in."""
    for panel in data["panels"]:
        for target in panel.get("targets", []):
            yield panel["title"], fill(target["expr"])
    for variable in data["templating"]["list"]:
        if variable["type"] == "query":
            match = _LABEL_VALUES.fullmatch(variable["query"])
            assert match, variable["query"]
            yield f"variable {variable['name']}", fill(match.group(1))


def annotation_queries(data: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """``(annotation name, PromQL)`` of every Prometheus annotation, variables filled in."""
    for annotation in data["annotations"]["list"]:
        yield f"annotation {annotation['name']}", fill(annotation["expr"])


def fill(expr: str) -> str:
    for name, value in GRAFANA_VARIABLES.items():
        expr = expr.replace(name, value)
    return expr


def series_names(expr: str) -> set[str]:
    """Metric family names selected in ``expr`` (a name followed by ``{`` or ``[``), histogram
    and counter suffixes removed; label matchers and function names are not selectors."""
    inside_braces = re.sub(r"\{[^}]*\}", "{}", expr)
    found = set()
    for name in _SELECTED.findall(inside_braces):
        for suffix in _SUFFIXES:
            if name.endswith(suffix) and ":" not in name:
                name = name[: -len(suffix)]
        found.add(name)
    return found
