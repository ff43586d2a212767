"""Everything generated from the metric catalog: dashboards, alert and recording rules, SLO
rules, runbooks and the README's metric table (``plexichat-obs generate``).

One module per artifact: ``dashboards/`` (grafanalib, one module per dashboard), ``rules``
(alerting), ``recording``, ``slo``, ``runbooks``, ``readme``; ``writer`` renders, writes and
checks freshness; ``options`` says for which profile, job, runbook URL and SLO window. Needs
the ``generate`` extra (grafanalib, pinned in ``constraints/generate.txt``)::

    from plexichat.generate import Options, check, generate

    generate(Options.for_profile(None), Path("."))   # what `plexichat-obs generate` does
    check(Options.for_profile(None), Path("."))      # [] when the committed files are fresh
"""

from pathlib import Path

from plexichat.generate.options import Options
from plexichat.generate.writer import check, render, write


def generate(options: Options, root: Path) -> list[str]:
    """Write every artifact under ``root``; return the paths that changed."""
    return write(render(options, root), root)


__all__ = ["Options", "check", "generate", "render", "write"]
