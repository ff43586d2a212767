"""What an optional watched source adds to a target that runs it (PostgreSQL): a rule file and
a dashboard of its own, never rows and rules inside the shared files.

A bundle's shared files (``alerts/*.yaml``, ``dashboards/*.json``) are the same for every
deployment; a deployment that runs an optional source adds that source's files, and one that
does not has nothing about it -- no rule that cannot fire, no empty panel -- by generation.
The files add up, so sources combine without a file per combination:

- ``plexichat-obs up`` writes ``<job>.yaml`` beside its other rule files;
- the Compose override of the source mounts ``optional/<job>/alerts.yaml`` into Prometheus'
  ``optional/`` rule directory and ``optional/<job>/dashboard.json`` into Grafana's dashboards;
- the chart projects ``files/optional/<job>/`` into the same places when the source is enabled.

The rule group holds the source's alerts of every kind (``dependency`` and ``watcher``), under
the run's profile; the dashboard its panels (:mod:`plexichat.generate.dashboards.source`).
"""

from __future__ import annotations

from typing import Any

from plexichat.generate.options import Options
from plexichat.generate.watchers import alert, for_options

KINDS = ("dependency", "watcher")
DIRECTORY = "optional"
"""Where the bundles' per-source files are generated: ``optional/<job>/``."""
RULES = "alerts.yaml"
DASHBOARD = "dashboard.json"


def group_name(job: str) -> str:
    """The rule group of the optional source ``job``."""
    return f"plexichat-{job}-alerts"


def groups(options: Options, job: str) -> list[dict[str, Any]]:
    """The rule groups of the optional source ``job``'s file."""
    if job not in options.optional_jobs:
        raise ValueError(f"{job!r} is not an optional source these options generate for")
    rules = [alert(each, options) for kind in KINDS for each in for_options(kind, options, (job,))]
    return [{"name": group_name(job), "rules": rules}]
