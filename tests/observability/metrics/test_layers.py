"""The metrics modules are layered: each imports only modules of the layers below it, under
``TYPE_CHECKING`` too (the package docstring gives the order and why)."""

from __future__ import annotations

import ast

import pytest

from tests.support.paths import ROOT

PACKAGE = "plexichat.observability.metrics"
FOLDER = ROOT / "instrumentation" / "plexichat" / "observability" / "metrics"
LAYERS = [
    ("slots",),
    ("directory",),
    ("instruments",),
    ("points",),
    ("sharing", "merge"),
    ("registry",),
]


def imported(module: str) -> set[str]:
    """The modules of the package that ``module`` imports, anywhere in its source."""
    found: set[str] = set()
    for node in ast.walk(ast.parse((FOLDER / f"{module}.py").read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        found |= {
            name.removeprefix(f"{PACKAGE}.").split(".")[0]
            for name in names
            if name.startswith(f"{PACKAGE}.")
        }
    return found


@pytest.mark.parametrize("level", range(len(LAYERS)))
def test_modules_import_only_layers_below(level: int) -> None:
    below = {module for layer in LAYERS[:level] for module in layer}
    for module in LAYERS[level]:
        assert imported(module) <= below, f"{module} imports {imported(module) - below}"
