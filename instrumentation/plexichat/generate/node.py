"""The host as the stack watches it, optionally: ``node_exporter``'s scrape job, port, collectors
and series.

A target that runs ``node_exporter`` (``plexichat-obs up --node-exporter``, Compose's
``docker-compose.node.yml``, the chart's ``nodeExporter.enabled``; none does by default) scrapes
it as job ``NODE_JOB`` (``plexichat.generate.stack.prometheus``) and gets the Node rules and
panels of the watched catalog; a target without it has neither the job nor them.

Only the ``COLLECTORS`` the catalog's entries read run: the exporter's ~40 default collectors
(network, disk stats, systemd, ...) would add a thousand series nothing here reads. Names are
those of Debian's ``prometheus-node-exporter`` 1.5 and of upstream's 1.x image (checked on the
real exporter's ``/metrics`` by tests/e2e/test_node_exporter.py).
"""

from __future__ import annotations

from plexichat.catalog import default_watched

NODE_JOB = "node"
"""The job of Prometheus scraping ``node_exporter``, in every target that runs it."""
NODE_EXPORTER_PORT = 9100
"""``node_exporter``'s default listen port (Compose and the chart)."""
COLLECTORS = ("cpu", "meminfo", "filesystem", "loadavg")
"""The collectors the Node entries read: ``node_cpu_seconds_total`` (cpu), ``node_memory_*``
(meminfo), ``node_filesystem_*`` (filesystem), ``node_load1`` (loadavg)."""
SERIES = frozenset(default_watched().source(NODE_JOB).series)
"""The exporter's series the Node alerts and panels read (the ``node`` source of
``catalog/watched.yaml``)."""


def collector_flags() -> list[str]:
    """node_exporter's flags that run ``COLLECTORS`` and no other."""
    return ["--collector.disable-defaults", *(f"--collector.{name}" for name in COLLECTORS)]
