"""PostgreSQL as the stack watches it: ``postgres_exporter``'s scrape job, port and series.

A target whose service uses PostgreSQL (``service.database_url``) runs ``postgres_exporter``
beside it, scraped as job ``POSTGRES_JOB`` (``plexichat.generate.stack.prometheus``); a target
without PostgreSQL has neither the exporter nor the job, so nothing about PostgreSQL can fire
or stay empty there. ``SERIES`` are the exporter's series the PostgreSQL alerts and panels
(still to come, from the catalog) are to read, checked on the real exporter's ``/metrics`` by
tests/e2e/test_postgres_exporter.py.

Names are those of Debian's ``prometheus-postgres-exporter`` 0.11 against PostgreSQL 15, and
the same in upstream 0.20 (its ``settings``, ``stat_activity`` and ``stat_database``
collectors). The ``pg_stat_database_*`` counters carry no ``_total`` suffix; every series has a
``server`` label (host:port) and the per-database ones ``datname``.
"""

from __future__ import annotations

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
SERIES = frozenset(
    {
        "pg_up",  # 1 when the last scrape reached PostgreSQL, 0 when it did not
        "pg_stat_activity_count",  # connections, by datname and state
        "pg_settings_max_connections",  # the server's max_connections
        "pg_stat_database_deadlocks",  # counter, by datname
        "pg_stat_database_xact_commit",  # counter, by datname
        "pg_stat_database_xact_rollback",  # counter, by datname
        "pg_stat_database_blks_hit",  # counter: blocks found in shared buffers
        "pg_stat_database_blks_read",  # counter: blocks read from disk (or the OS cache)
    }
)
"""The exporter's series that PostgreSQL's alerts (down, connections near max_connections,
deadlocks) and the Dependencies dashboard's panels (connections, transactions, cache hit
ratio) need; no catalog instrument yet."""
