"""postgres_exporter in the bundles: only where the service is given PostgreSQL, its data source
made from the service's own URL by the init step (``plexichat-obs postgres-source``), the
password on no command line.

The last test runs each bundle's init step and the real exporter (Debian's) with the
environment and volume wiring the bundle gives them, against a real PostgreSQL that checks the
password: ``pg_up`` 1 proves the wiring, not just its shape. (The bundles' own images cannot
run here: no container engine; the init step is our code either way.)
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from cloudcoil.models.prometheus_operator import v1 as monitoring

from plexichat.generate.postgres import POSTGRES_EXPORTER_PORT, POSTGRES_JOB
from plexichat.stack.postgres_source import environment
from tests.deploy.chart import CHART, find, objects, one, render, scenario_values
from tests.deploy.compose import DATABASE_URL, document, raw
from tests.support.postgres_server import PostgresServer, require_postgres
from tests.support.processes import stop
from tests.support.stack import wait_for
from tests.support.tools import free_port, require_tool, requires_tool

SECRET = {"name": "plexichat-database", "key": "url"}
DATABASE = {"plexichat": {"database": {"urlSecret": SECRET}}}
PASSWORD = "pa:ss@w/rd%'x"


def _exporter_pod(values: dict[str, Any]) -> dict[str, Any]:
    rendered = objects(render(values))
    spec: dict[str, Any] = one(rendered, "Deployment", "postgres-exporter")["spec"]["template"][
        "spec"
    ]
    return spec


def _secret_refs(container: dict[str, Any]) -> dict[str, dict[str, str]]:
    return {
        e["name"]: e["valueFrom"]["secretKeyRef"]
        for e in container.get("env", [])
        if "secretKeyRef" in e.get("valueFrom", {})
    }


def test_the_chart_runs_no_exporter_without_a_database_url_secret() -> None:
    for values in ({}, {"postgresExporter": {"enabled": True}}):
        rendered = objects(render(values))
        assert [o for o in rendered if "postgres-exporter" in o["metadata"]["name"]] == []


def test_the_charts_exporter_reads_the_services_secret_through_its_init_step() -> None:
    rendered = objects(render(DATABASE))
    service = one(rendered, "Deployment", "plexichat")["spec"]["template"]["spec"]
    (init,) = _exporter_pod(DATABASE)["initContainers"]
    (exporter,) = _exporter_pod(DATABASE)["containers"]
    # The same Secret and key, in the same variable the service reads it from.
    url = "PLEXICHAT_SERVICE__DATABASE_URL"
    assert _secret_refs(init)[url] == _secret_refs(service["containers"][0])[url] == SECRET
    assert init["image"] == service["containers"][0]["image"]
    assert init["command"][:2] == ["plexichat-obs", "postgres-source"]
    out = init["command"][init["command"].index("--out") + 1]
    # The exporter reads the files the init step writes: one volume, the module's names.
    volume = next(m["name"] for m in init["volumeMounts"] if m["mountPath"] == out)
    (mount,) = [m for m in exporter["volumeMounts"] if m["name"] == volume]
    assert mount["readOnly"] is True
    plain = {e["name"]: e["value"] for e in exporter["env"]}
    assert plain == environment(Path(mount["mountPath"]))
    # Nothing secret on a command line or in the exporter's environment.
    assert _secret_refs(exporter) == {}
    assert not exporter.get("command")
    assert not exporter.get("args")
    (port,) = exporter["ports"]
    assert port["containerPort"] == POSTGRES_EXPORTER_PORT


def test_the_charts_exporter_is_scraped_as_job_postgres_by_an_operators_prometheus_too() -> None:
    values = scenario_values(CHART / "ci" / "operator-values.yaml") | DATABASE
    values |= {"networkPolicy": {"enabled": True}}
    rendered = objects(render(values))
    monitor = one(rendered, "ServiceMonitor", "postgres-exporter")
    parsed = monitoring.ServiceMonitor.model_validate(monitor)
    assert parsed.model_dump(by_alias=True, exclude_unset=True, mode="json") == monitor
    (endpoint,) = monitor["spec"]["endpoints"]
    service = one(rendered, "Service", "postgres-exporter")
    assert endpoint["port"] == service["spec"]["ports"][0]["name"]
    assert {r["targetLabel"]: r["replacement"] for r in endpoint["relabelings"]} == {
        "job": POSTGRES_JOB
    }
    # No release Prometheus to admit: whoever scrapes it lives elsewhere.
    policy = one(rendered, "NetworkPolicy", "postgres-exporter")
    assert [rule.get("from") for rule in policy["spec"]["ingress"]] == [None]
    rendered = objects(render(DATABASE | {"networkPolicy": {"enabled": True}}))
    (rule,) = one(rendered, "NetworkPolicy", "postgres-exporter")["spec"]["ingress"]
    sources = [p["podSelector"]["matchLabels"]["app.kubernetes.io/component"] for p in rule["from"]]
    assert sources == ["prometheus"]
    assert find(rendered, "ServiceMonitor") == []


def test_compose_runs_the_exporter_only_with_its_postgres_file() -> None:
    assert not {"postgres-exporter", "postgres-source"} & set(document()["services"])
    services = document(postgres=True)["services"]
    url = services["plexichat"]["environment"]["PLEXICHAT_SERVICE__DATABASE_URL"]
    source, exporter = services["postgres-source"], services["postgres-exporter"]
    assert url == source["environment"]["PLEXICHAT_SERVICE__DATABASE_URL"] == DATABASE_URL
    assert exporter["depends_on"] == {
        "postgres-source": {"condition": "service_completed_successfully"}
    }
    out = source["entrypoint"][source["entrypoint"].index("--out") + 1]
    (volume,) = [v.split(":")[0] for v in source["volumes"] if v.split(":")[1] == out]
    (mounted,) = [v for v in exporter["volumes"] if v.startswith(f"{volume}:")]
    assert mounted.endswith(":ro")
    assert exporter["environment"] == environment(Path(mounted.split(":")[1]))
    written = raw(postgres=True)["services"]
    for name in ("postgres-source", "postgres-exporter"):  # the URL only by interpolation
        for key in ("entrypoint", "command"):
            assert "DATABASE_URL" not in str(written[name].get(key, "")), name


@pytest.fixture(scope="module")
def database() -> Iterator[PostgresServer]:
    """A real PostgreSQL that checks a password (SCRAM)."""
    server = PostgresServer(require_postgres(), durable=False, password=PASSWORD)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _chart_wiring() -> tuple[list[str], dict[str, str], dict[str, str]]:
    """(init argv, exporter env, exporter mount path -> init mount path) of the chart."""
    spec = _exporter_pod(DATABASE)
    (init,) = spec["initContainers"]
    (exporter,) = spec["containers"]
    init_mounts = {m["name"]: m["mountPath"] for m in init["volumeMounts"]}
    paths = {m["mountPath"]: init_mounts[m["name"]] for m in exporter["volumeMounts"]}
    return init["command"], {e["name"]: e["value"] for e in exporter["env"]}, paths


def _compose_wiring() -> tuple[list[str], dict[str, str], dict[str, str]]:
    services = document(postgres=True)["services"]
    source, exporter = services["postgres-source"], services["postgres-exporter"]
    source_mounts = dict(v.split(":")[:2] for v in source["volumes"])
    paths = {v.split(":")[1]: source_mounts[v.split(":")[0]] for v in exporter["volumes"]}
    return source["entrypoint"], dict(exporter["environment"]), paths


@requires_tool("prometheus-postgres-exporter")
@pytest.mark.parametrize("bundle", ["helm", "compose"])
def test_each_bundles_init_step_and_exporter_reach_a_real_postgresql(
    bundle: str, database: PostgresServer, tmp_path: Path
) -> None:
    binary = require_tool("prometheus-postgres-exporter")
    argv, env, paths = _chart_wiring() if bundle == "helm" else _compose_wiring()
    volume = tmp_path / "volume"  # stands for the volume both containers mount

    def here(path: str) -> str:  # a path in either container -> the same file here
        for mount in {*paths, *paths.values()}:
            if path == mount or path.startswith(mount + "/"):
                return str(volume / Path(path).relative_to(mount))
        raise AssertionError(f"{path} is on no shared volume")

    init_env = {k: v for k, v in os.environ.items() if not k.startswith("PLEXICHAT_")}
    init_env["PLEXICHAT_SERVICE__DATABASE_URL"] = database.url  # the Secret's value
    out = argv.index("--out") + 1
    init = [sys.executable, "-m", "plexichat.cli", *argv[1:out], here(argv[out])]
    done = subprocess.run(init, env=init_env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    port = free_port()
    exporter_env = {k: here(v) for k, v in env.items()}
    log = tmp_path / "exporter.log"
    with log.open("wb") as out_file:
        process = subprocess.Popen(
            [binary, f"--web.listen-address=127.0.0.1:{port}"],
            env={"PATH": os.environ["PATH"], **exporter_env},
            stdout=out_file,
            stderr=subprocess.STDOUT,
        )
    try:

        def pg_up() -> bool:
            text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
            return "\npg_up 1\n" in text

        wait_for(pg_up, 60, f"pg_up 1 from the {bundle} wiring")
        assert PASSWORD not in Path(f"/proc/{process.pid}/cmdline").read_text()
        assert PASSWORD not in Path(f"/proc/{process.pid}/environ").read_text()
    finally:
        stop(process)
    assert PASSWORD not in log.read_text() + done.stdout + done.stderr
