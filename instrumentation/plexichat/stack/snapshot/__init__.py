"""``plexichat-obs snapshot``: every generated dashboard as a PNG with live data.

A preview for reviews and CI artifacts where no Grafana runs: each dashboard JSON (as
``plexichat-obs generate`` writes it, ``dashboards/`` by default) is laid out on its own grid,
and each panel is drawn from Prometheus range queries of its own PromQL (``render``). Panel
types drawn: timeseries, stat, gauge, bar gauge and table (``panels``), a row as its title;
any other is a labelled box. ``dashboard`` reads the JSON, ``units`` formats values as Grafana does.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

from plexichat.catalog.model import JOB
from plexichat.stack.prometheus_api import PrometheusAPI
from plexichat.stack.snapshot.dashboard import load
from plexichat.stack.snapshot.render import snapshot_dashboard


class NoDashboardsError(FileNotFoundError):
    """The dashboards directory holds no ``*.json``."""


def snapshot(
    api: PrometheusAPI, dashboards: Path, out: Path, range_s: float, job: str = JOB
) -> list[Path]:
    """Write ``<out>/<dashboard>.png`` for every ``<dashboards>/*.json``; their paths."""
    files = sorted(dashboards.glob("*.json"))
    if not files:
        raise NoDashboardsError(
            f"no dashboards (*.json) in {dashboards}: run from the repository root, pass "
            "--dashboards DIR, or run `plexichat-obs generate` first"
        )
    out.mkdir(parents=True, exist_ok=True)
    end = time.time()
    start = end - range_s
    stamp = datetime.fromtimestamp(end, UTC).strftime("%Y-%m-%d %H:%M UTC")
    subtitle = f"job={job}, last {range_s / 60:g} min to {stamp}, from {api.url} (preview)"
    return [snapshot_dashboard(api, load(f, job), start, end, out, subtitle) for f in files]
