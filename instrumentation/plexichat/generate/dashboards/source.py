"""The dashboard of one optional watched source (*PlexiChat / PostgreSQL*): its rows of every
kind, drawn from the watched catalog like Dependencies' (:mod:`.watched`), in a file of its own
that only a target running the source provisions (:mod:`plexichat.generate.optional`). It
shares the ``plexichat`` tag, so every dashboard's PlexiChat menu lists it where it exists.
"""

from __future__ import annotations

from typing import Any

from plexichat.generate.dashboards import board, watched
from plexichat.generate.optional import KINDS
from plexichat.generate.options import Options


def build(options: Options, job: str) -> dict[str, Any]:
    """The dashboard of the optional source ``job`` as Grafana 11 JSON."""
    source = options.watched.source(job)
    if job not in options.optional_jobs:
        raise ValueError(f"{job!r} is not an optional source these options generate for")
    cells = [cell for kind in KINDS for cell in watched.rows(kind, options, jobs=(job,))]
    return board.dashboard(
        job,
        f"PlexiChat / {source.title}",
        f"{source.component} as its exporter sees it (catalog/watched.yaml, job {job}); "
        "provisioned only where the stack watches it.",
        cells,
        options,
    )
