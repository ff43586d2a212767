"""PostgreSQL watched, live: ``plexichat-obs up`` with the service on a real PostgreSQL
(``PLEXICHAT_SERVICE__DATABASE_URL``; the server checks the password, SCRAM), with Debian's
postgres_exporter, Prometheus and Alertmanager, time scale 0.01.

Checks, in order: up starts postgres_exporter (its components table shows it) and neither its
command line, its environment, its log nor up's output carries the password; Prometheus
scrapes it as job ``postgres`` and it reaches PostgreSQL (``pg_up == 1``); every series the
PostgreSQL alerts and panels are to read (``postgres.SERIES``) is on the real exporter, the
server's own ``max_connections`` and the service's database among them; up loads PostgreSQL's
own rule group, and every query of the PostgreSQL dashboard (``optional/postgres/``, what the
bundles provision with PostgreSQL) returns data. Then PostgreSQL is
killed: the exporter reports ``pg_up 0`` and is still scraped (``up == 1``), up keeps
running, and the service lives (``/healthz``) but is not ready (``/readyz`` 503: no database).
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from plexichat.generate import optional
from plexichat.generate.postgres import POSTGRES_JOB, SERIES
from tests.generate import support
from tests.support.postgres_server import DATABASE, PostgresServer, require_postgres
from tests.support.stack import Stack, pid_alive, wait_for
from tests.support.tools import require_tool, requires_tool

pytestmark = requires_tool("prometheus-postgres-exporter")

PASSWORD = "up-pa:ss@w/rd%'x"
MAX_CONNECTIONS = 200  # what tests/support/postgres_server.py starts the server with
JOB = f'job="{POSTGRES_JOB}"'


@pytest.fixture(scope="module")
def database() -> Iterator[PostgresServer]:
    server = PostgresServer(require_postgres(), durable=False, password=PASSWORD)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, database: PostgresServer) -> Iterator[Stack]:
    require_tool("prometheus-postgres-exporter")
    running = Stack(
        tmp_path_factory.mktemp("postgres"),
        ["--time-scale", "0.01"],
        env={"PLEXICHAT_SERVICE__DATABASE_URL": database.url},
    )
    try:
        yield running
    finally:
        if running.process.poll() is None:
            assert running.stop() == 0


def _exporter_pid(stack: Stack) -> int:
    pid = stack.state.components["postgres_exporter"].pid
    assert pid is not None
    return pid


def test_up_runs_postgres_exporter_and_the_password_is_nowhere_to_be_read(stack: Stack) -> None:
    assert "postgres_exporter" in stack.output  # the components table
    pid = _exporter_pid(stack)
    assert stack.children()[pid][0].endswith("postgres-exporter")
    forms = (PASSWORD, quote(PASSWORD, safe=""))  # as given, and as the URL carries it
    readable = {
        "its command line": Path(f"/proc/{pid}/cmdline").read_bytes().decode(),
        "its environment": Path(f"/proc/{pid}/environ").read_bytes().decode(),
        "up's output": stack.output,
        "its log": Path(stack.state.components["postgres_exporter"].log).read_text(),
    }
    for where, text in readable.items():
        assert not [form for form in forms if form in text], f"the password is in {where}"
    assert "DATA_SOURCE_PASS_FILE=" in readable["its environment"]
    assert "DATABASE_URL" not in readable["its environment"]


def test_prometheus_scrapes_job_postgres_and_every_series_is_there(stack: Stack) -> None:
    for query in (f"up{{{JOB}}} == 1", f"pg_up{{{JOB}}} == 1"):
        wait_for(functools.partial(stack.prometheus.query, query), 60, query)

    def missing() -> set[str]:
        return {name for name in SERIES if not stack.prometheus.query(f"count({name}{{{JOB}}})")}

    wait_for(lambda: not missing(), 30, f"the exporter's series {missing()}")
    (setting,) = stack.prometheus.query(f"pg_settings_max_connections{{{JOB}}}")
    assert setting.value == MAX_CONNECTIONS  # the server up's service uses
    # The service's own database, where it has committed its schema and demo data.
    committed = f'pg_stat_database_xact_commit{{{JOB}, datname="{DATABASE}"}} > 0'
    wait_for(functools.partial(stack.prometheus.query, committed), 30, committed)
    connections = f'sum(pg_stat_activity_count{{{JOB}, datname="{DATABASE}"}}) > 0'
    wait_for(functools.partial(stack.prometheus.query, connections), 30, connections)


def test_up_loads_postgresql_s_rules_and_its_dashboard_has_data(stack: Stack) -> None:
    rules = httpx.get(f"{stack.state.prometheus_url}/api/v1/rules", timeout=10).json()
    groups = {g["name"]: {r["name"] for r in g["rules"]} for g in rules["data"]["groups"]}
    assert groups[optional.group_name(POSTGRES_JOB)] == {
        "PostgresDown",
        "PostgresConnectionsHigh",
        "PostgresDeadlocks",
    }
    path = support.ROOT / optional.DIRECTORY / POSTGRES_JOB / optional.DASHBOARD
    queries = list(support.dashboard_queries(support.dashboard(path)))
    assert queries

    def empty() -> list[str]:
        return [title for title, expr in queries if not stack.prometheus.query(expr)]

    wait_for(lambda: not empty(), 60, "every PostgreSQL dashboard query to return data")


def test_killing_postgresql_reports_pg_up_0_and_up_keeps_running(
    stack: Stack, database: PostgresServer
) -> None:
    database.kill()
    query = f"pg_up{{{JOB}}} == 0"
    wait_for(functools.partial(stack.prometheus.query, query), 60, query)
    # The exporter survives its database's death: still running, still scraped.
    assert pid_alive(_exporter_pid(stack))
    assert stack.prometheus.query(f"up{{{JOB}}} == 1")
    assert stack.process.poll() is None, stack.output
    service = stack.state.service_url
    assert httpx.get(f"{service}/healthz", timeout=10).status_code == 200
    assert httpx.get(f"{service}/readyz", timeout=10).status_code == 503

    # up generated PostgreSQL's rules because it watches PostgreSQL: PostgresDown fires.
    def down_firing() -> bool:
        return any(a["state"] == "firing" for a in stack.alerts("PostgresDown"))

    wait_for(down_firing, 90, "PostgresDown firing in Prometheus")
