"""PostgreSQL watched, live: ``plexichat-obs up`` with the service on a real PostgreSQL
(``PLEXICHAT_SERVICE__DATABASE_URL``; the server checks the password, SCRAM; ``max_connections``
20), with Debian's postgres_exporter, Prometheus and Alertmanager, time scale 0.01.

Checks, in order: up starts postgres_exporter (its components table shows it) and neither its
command line, its environment, its log nor up's output carries the password; Prometheus
scrapes it as job ``postgres`` and it reaches PostgreSQL (``pg_up == 1``); every series the
PostgreSQL alerts and panels are to read (``postgres.SERIES``) is on the real exporter, the
server's own ``max_connections`` and the service's database among them; up loads PostgreSQL's
own rule group, and every query of the PostgreSQL dashboard (``optional/postgres/``, what the
bundles provision with PostgreSQL) returns data.

Then each PostgreSQL alert provoked on the real server (``AlertWatch``: the other PostgreSQL
alerts stay quiet meanwhile), a few seconds each on our 2-CPU machine, so in the normal suite:

- real connections held open past the profile's threshold of ``max_connections`` (two short
  of all of them): ``PostgresConnectionsHigh`` fires and reaches the receiver, the service
  still reads and writes; released, it resolves there (8-10 s);
- one real deadlock (two transactions locking two rows in opposite order; PostgreSQL aborts
  one): ``pg_stat_database_deadlocks`` rises, ``PostgresDeadlocks`` fires and reaches the
  receiver, the service still reads and writes; it resolves there once the window has passed
  the deadlock (10-12 s).

Last, PostgreSQL is killed: the exporter reports ``pg_up 0`` and is still scraped
(``up == 1``), up keeps running, the service lives (``/healthz``) but is not ready
(``/readyz`` 503: no database), and ``PostgresDown`` fires.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import httpx
import pytest

from plexichat.catalog import default_watched
from plexichat.generate import dependencies, optional
from plexichat.generate.postgres import POSTGRES_JOB, SERIES
from plexichat.generate.stack.alertmanager import RECEIVER
from plexichat.generate.watchers import of_kind
from tests.generate import support
from tests.support.alert_watch import AlertWatch
from tests.support.postgres_server import DATABASE, PostgresServer, require_postgres
from tests.support.stack import Stack, pid_alive, wait_for
from tests.support.tools import require_tool, requires_tool

if TYPE_CHECKING:
    from tests.support.postgres_clients import PostgresClients

pytestmark = requires_tool("prometheus-postgres-exporter")

PASSWORD = "up-pa:ss@w/rd%'x"
MAX_CONNECTIONS = 20
"""The server's: few enough that a test holds most of them (and the service keeps its own)."""
JOB = f'job="{POSTGRES_JOB}"'


@pytest.fixture(scope="module")
def database() -> Iterator[PostgresServer]:
    server = PostgresServer(
        require_postgres(), durable=False, password=PASSWORD, max_connections=MAX_CONNECTIONS
    )
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


PROFILE = "development"  # up's default
CONNECTIONS_HIGH = "PostgresConnectionsHigh"
DEADLOCKS = "PostgresDeadlocks"
DEADLOCK_DETECTED = "40P01"  # PostgreSQL's SQLSTATE for "deadlock detected"
POSTGRES_ALERTS = frozenset(
    w.name for w in of_kind(dependencies.KIND, default_watched(), PROFILE, (POSTGRES_JOB,))
)


def _threshold(entry_id: str) -> float:
    (entry,) = [e for e in default_watched().of(dependencies.KIND) if e.id == entry_id]
    rule = entry.resolved(PROFILE).alert
    assert rule is not None, f"{entry_id} has no alert under the {PROFILE} profile"
    return rule.value


@pytest.fixture
def clients(database: PostgresServer) -> Iterator[PostgresClients]:
    # Here, not at the top: without asyncpg, require_postgres skips (fails under CI) first.
    from tests.support.postgres_clients import PostgresClients

    opened = PostgresClients(database.dsn_of(DATABASE))
    try:
        yield opened
    finally:
        opened.close()


def _serving(stack: Stack, name: str) -> None:
    """The service answers a database read and a write (a new user) while PostgreSQL is
    in trouble."""
    service = stack.state.service_url
    assert httpx.get(f"{service}/readyz", timeout=10).status_code == 200
    assert httpx.get(f"{service}/api/users/1", timeout=10).status_code == 200
    user = {"username": name, "display_name": name}
    created = httpx.post(f"{service}/api/users", json=user, timeout=10)
    assert created.status_code == 201, created.text


def _delivered(watch: AlertWatch, name: str, status: str) -> dict[str, Any]:
    notification = watch.notified(name, status, job=POSTGRES_JOB)
    assert notification["receiver"] == RECEIVER
    assert notification["runbook_url"].endswith(f"#{name.lower()}")
    assert notification["summary"]
    return notification


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


def test_connections_past_the_threshold_fire_connections_high_until_released(
    stack: Stack, clients: PostgresClients
) -> None:
    threshold = _threshold("postgres_connections_ratio")
    wait_for(functools.partial(stack.prometheus.query, f"pg_up{{{JOB}}} == 1"), 60, "pg_up 1")
    assert not stack.alerts(CONNECTIONS_HIGH)
    # Past the threshold, with a connection or two left for the service's pool to grow into.
    wanted = int(MAX_CONNECTIONS * threshold) + 2
    assert wanted < MAX_CONNECTIONS
    watch = AlertWatch(stack, POSTGRES_ALERTS - {CONNECTIONS_HIGH})
    try:
        clients.hold(wanted - clients.count() + 1)  # count() counted its own connection
        alert = watch.firing(CONNECTIONS_HIGH, job=POSTGRES_JOB)
        assert alert["labels"]["severity"] == "warning"
        assert threshold < float(alert["value"]) <= 1
        _delivered(watch, CONNECTIONS_HIGH, "firing")
        _serving(stack, "near_max_connections")
    finally:
        clients.release()
    watch.ended(CONNECTIONS_HIGH, job=POSTGRES_JOB)
    _delivered(watch, CONNECTIONS_HIGH, "resolved")
    assert watch.loud() == set()


def test_a_deadlock_fires_deadlocks_and_it_resolves(stack: Stack, clients: PostgresClients) -> None:
    deadlocks = f"sum(pg_stat_database_deadlocks{{{JOB}}})"
    wait_for(functools.partial(stack.prometheus.query, deadlocks), 60, deadlocks)
    (before,) = stack.prometheus.query(deadlocks)
    assert not stack.alerts(DEADLOCKS)
    watch = AlertWatch(stack, POSTGRES_ALERTS - {DEADLOCKS})
    aborted = clients.deadlock()
    assert [getattr(e, "sqlstate", None) for e in aborted] == [DEADLOCK_DETECTED], aborted
    counted = f"{deadlocks} > {before.value:g}"
    wait_for(functools.partial(stack.prometheus.query, counted), 60, counted)
    alert = watch.firing(DEADLOCKS, job=POSTGRES_JOB)
    assert alert["labels"]["severity"] == "warning"
    _delivered(watch, DEADLOCKS, "firing")
    _serving(stack, "after_a_deadlock")
    watch.ended(DEADLOCKS, job=POSTGRES_JOB)
    _delivered(watch, DEADLOCKS, "resolved")
    assert watch.loud() == set()


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
