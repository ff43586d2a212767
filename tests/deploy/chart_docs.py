"""The chart's values documented once: the ``# --`` comments of ``values.yaml``.

``values.yaml`` describes each key in a ``# -- text`` comment above it (continued on following
``#`` lines). From those comments this module builds the values table of the chart README; the
tests check that every key has one, that the schema knows every key, and that the README table
is current. ``python -m tests.deploy.chart_docs`` rewrites the table.
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

CHART = Path(__file__).resolve().parents[2] / "helm" / "plexichat-observability"
VALUES = CHART / "values.yaml"
README = CHART / "README.md"
BEGIN = "<!-- values-table:begin (python -m tests.deploy.chart_docs) -->"
END = "<!-- values-table:end -->"

_KEY = re.compile(r"^(?P<indent> *)(?P<key>[A-Za-z_][A-Za-z0-9_]*):(?: |$)")
_DOC = re.compile(r"^ *# -- ?(?P<text>.*)$")
_MORE = re.compile(r"^ *#(?: +(?P<text>.*))?$")


@dataclass(frozen=True)
class Value:
    path: tuple[str, ...]
    description: str
    default: Any

    @property
    def name(self) -> str:
        return ".".join(self.path)


def _lookup(tree: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        tree = tree[key]
    return tree


def documented_keys(text: str) -> dict[tuple[str, ...], str]:
    """Every key path of a values file with the ``# --`` description above it ("" if none)."""
    stack: list[tuple[int, str]] = []
    described: dict[tuple[str, ...], str] = {}
    pending: list[str] | None = None
    for line in text.splitlines():
        doc = _DOC.match(line)
        if doc:
            pending = [doc.group("text").strip()]
            continue
        more = _MORE.match(line)
        if more and pending is not None:
            pending.append((more.group("text") or "").strip())
            continue
        key = _KEY.match(line)
        if key:
            indent = len(key.group("indent"))
            while stack and stack[-1][0] >= indent:
                stack.pop()
            stack.append((indent, key.group("key")))
            path = tuple(name for _, name in stack)
            described[path] = " ".join(part for part in pending or [] if part)
        pending = None
    return described


def values() -> list[Value]:
    """The documented values: keys whose value is not a section (a non-empty mapping)."""
    text = VALUES.read_text()
    tree = yaml.safe_load(text)
    described = documented_keys(text)
    result = []
    for path, description in described.items():
        if any(described.get(path[:i]) for i in range(1, len(path))):
            continue  # inside a value described as a whole (e.g. resources)
        default = _lookup(tree, path)
        if isinstance(default, dict) and default and not description:
            continue  # a section: its keys carry the descriptions
        result.append(Value(path, description, default))
    return result


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def table() -> str:
    rows = ["| value | default | description |", "|---|---|---|"]
    for value in values():
        default = json.dumps(value.default, separators=(", ", ": "))
        rows.append(f"| `{value.name}` | `{_cell(default)}` | {_cell(value.description)} |")
    return "\n".join(rows)


def readme_with_table(readme: str) -> str:
    head, rest = readme.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{BEGIN}\n{table()}\n{END}{tail}"


def main() -> int:
    README.write_text(readme_with_table(README.read_text()))
    print(f"wrote the values table of {README}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
