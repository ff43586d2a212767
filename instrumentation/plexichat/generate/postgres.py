"""PostgreSQL as the stack watches it: ``postgres_exporter``'s scrape job, port and series.

A target whose service uses PostgreSQL (``service.database_url``) runs ``postgres_exporter``
beside it, scraped as job ``POSTGRES_JOB`` (``plexichat.generate.stack.prometheus``); a target
without PostgreSQL has neither the exporter nor the job, so nothing about PostgreSQL can fire
or stay empty there. ``SERIES`` are the exporter's series the PostgreSQL alerts and panels
(from the watched catalog) read, checked on the real exporter's ``/metrics`` by
tests/e2e/test_postgres_exporter.py.

Names are those of Debian's ``prometheus-postgres-exporter`` 0.11 against PostgreSQL 15, and
the same in upstream 0.20 (its ``settings``, ``stat_activity`` and ``stat_database``
collectors). The ``pg_stat_database_*`` counters carry no ``_total`` suffix; every series has a
``server`` label (host:port) and the per-database ones ``datname``.
"""

from __future__ import annotations

from plexichat.catalog import default_watched

POSTGRES_JOB = "postgres"
"""The job of Prometheus scraping ``postgres_exporter``, in every target that uses PostgreSQL."""
POSTGRES_EXPORTER_PORT = 9187
"""``postgres_exporter``'s default listen port (Compose and the chart)."""
SCRAPE_FLOOR_S = 2.0
"""The shortest scrape interval (and timeout) of job ``postgres``. With PostgreSQL gone, the
exporter answers a scrape only after waiting a second to retry (``GetServer`` in its
server.go, 0.11 to 0.20): scraped every second with a one-second timeout, as ``up`` does when
time is compressed, every such scrape would time out and ``pg_up 0`` never be recorded. The
shipped 15 s interval is far above it."""
SERIES = frozenset(default_watched().source(POSTGRES_JOB).series)
"""The exporter's series PostgreSQL's alerts and panels read (the ``postgres`` source of
``catalog/watched.yaml``): ``pg_up``, connections by datname and state, ``max_connections``,
and the ``pg_stat_database`` counters (deadlocks, commits, rollbacks, blocks hit and read)."""
