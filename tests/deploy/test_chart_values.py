"""values.yaml, values.schema.json and the chart README describe the same values."""

from __future__ import annotations

import json
from typing import Any

import yaml

from tests.deploy import chart_docs
from tests.deploy.chart import CHART

SCHEMA = json.loads((CHART / "values.schema.json").read_text())


def _schema_at(path: tuple[str, ...]) -> dict[str, Any] | None:
    node: dict[str, Any] = SCHEMA
    for key in path:
        properties = node.get("properties")
        if properties is None or key not in properties:
            return None
        node = properties[key]
    return node


def test_values_file_points_at_its_schema_on_line_1() -> None:
    first = chart_docs.VALUES.read_text().splitlines()[0]
    assert first == "# yaml-language-server: $schema=values.schema.json"
    assert SCHEMA["$schema"] == "http://json-schema.org/draft-07/schema#"


def test_every_value_has_a_comment() -> None:
    documented = {value.path for value in chart_docs.values()}
    tree = yaml.safe_load(chart_docs.VALUES.read_text())

    def walk(node: Any, path: tuple[str, ...]) -> list[tuple[str, ...]]:
        if path in documented:
            return []
        if isinstance(node, dict) and node:
            return [p for key, child in node.items() for p in walk(child, (*path, key))]
        return [path]

    undocumented = walk(tree, ())
    assert not undocumented, [".".join(p) for p in undocumented]


def test_schema_describes_every_value_and_no_other() -> None:
    for value in chart_docs.values():
        node = _schema_at(value.path)
        assert node is not None, f"{value.name} is not in values.schema.json"
        assert node.get("description"), f"{value.name} has no description in the schema"

    whole = {value.path for value in chart_docs.values()}

    def objects(node: dict[str, Any], path: tuple[str, ...]) -> list[tuple[str, ...]]:
        found = []
        if node.get("type") == "object" and "properties" in node:
            assert node.get("additionalProperties") is False, f"{'.'.join(path)} is not strict"
            if path in whole:
                return []  # e.g. resources: its keys are optional
            for key, child in node["properties"].items():
                found.append((*path, key))
                found += objects(child, (*path, key))
        return found

    tree = yaml.safe_load(chart_docs.VALUES.read_text())
    for path in objects(SCHEMA, ()):
        here: Any = tree
        for key in path:
            assert isinstance(here, dict), path
            assert key in here, f"the schema has {'.'.join(path)}, values.yaml does not"
            here = here[key]


def test_chart_readme_values_table_is_current() -> None:
    readme = chart_docs.README.read_text()
    assert chart_docs.readme_with_table(readme) == readme, (
        "the values table is stale: run `python -m tests.deploy.chart_docs`"
    )
