"""Everything generated from the metric catalog: dashboards, alert and recording rules, SLO
rules, runbooks and the README's metric table (``plexichat-obs generate``).

One module per artifact: ``dashboards/`` (grafanalib, one module per dashboard), ``rules``
(alerting), ``recording``, ``slo``, ``runbooks``, ``readme``; ``writer`` renders, writes and
checks freshness; ``options`` says for which profile, job, runbook URL and SLO window. Writing
the dashboards needs the ``generate`` extra (grafanalib, pinned in
``constraints/generate.txt``)::

    from plexichat.generate import Options, check, generate

    generate(Options.for_profile(None), Path("."))   # what `plexichat-obs generate` does
    check(Options.for_profile(None), Path("."))      # [] when the committed files are fresh

The package itself imports no grafanalib: ``check``, ``render`` and ``write`` load the writer
(and with it the dashboards) when first used, so the PromQL, rule and option modules that
``status`` and ``up`` use import without the extra.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from plexichat.generate.options import Options

if TYPE_CHECKING:
    from plexichat.generate.writer import check, render, write

_WRITER = frozenset({"check", "render", "write"})


def generate(options: Options, root: Path) -> list[str]:
    """Write every artifact under ``root``; return the paths that changed."""
    from plexichat.generate.writer import render, write

    return write(render(options, root), root)


def __getattr__(name: str) -> Any:
    if name in _WRITER:
        return getattr(importlib.import_module("plexichat.generate.writer"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["Options", "check", "generate", "render", "write"]
