"""The Compose stack: the official Compose Specification schema, then what a schema cannot see
(references, mounted files, ports, pinned images), then each component's own validator. Each
check holds for the stack as shipped (SQLite), with ``docker-compose.postgres.yml`` laid over it
(the service on PostgreSQL, postgres_exporter) and with ``docker-compose.node.yml`` (the host
watched by node_exporter)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path, PurePosixPath
from typing import Any

import httpx
import pytest
import yaml

from plexichat.config import load_settings
from tests.deploy import grafana
from tests.deploy.compose import (
    COMPOSE_DIR,
    COMPOSE_FILE,
    NODE_FILE,
    POSTGRES_FILE,
    bind_mounts,
    document,
    dotenv,
    raw,
)
from tests.deploy.prometheus_config import assert_native_histograms_on_the_service_job_only
from tests.support.newer_keys import check_config, readable
from tests.support.processes import stop
from tests.support.stack import wait_for
from tests.support.tools import free_port, require_tool, requires_tool

ROOT = Path(__file__).resolve().parents[2]
GENERATED = {"../alerts": "*.yaml", "../dashboards": "*.json"}


@pytest.fixture(
    scope="module",
    params=[{}, {"postgres": True}, {"node": True}, {"postgres": True, "node": True}],
    ids=["sqlite", "postgres", "node", "postgres+node"],
)
def overrides(request: pytest.FixtureRequest) -> dict[str, bool]:
    """Which overrides are laid over docker-compose.yml (``document``'s keywords): none,
    docker-compose.postgres.yml, docker-compose.node.yml, or both (they add up)."""
    chosen: dict[str, bool] = request.param
    return chosen


@pytest.fixture(scope="module")
def compose(overrides: dict[str, bool]) -> dict[str, Any]:
    """The Compose file(s) as `docker compose` sees them with compose/.env and no other
    variables (but the database URL with PostgreSQL)."""
    return document(**overrides)


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    result: dict[str, dict[str, Any]] = compose["services"]
    return result


def one_shot(service: dict[str, Any]) -> bool:
    return service.get("restart") == "no"


def test_compose_file_passes_the_compose_specification_schema() -> None:
    check = Path(sys.executable).with_name("check-jsonschema")
    result = subprocess.run(
        [
            str(check),
            "--builtin-schema",
            "vendor.compose-spec",
            str(COMPOSE_FILE),
            str(POSTGRES_FILE),
            str(NODE_FILE),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_five_components_and_a_trace_store_in_a_profile(
    services: dict[str, dict[str, Any]],
) -> None:
    assert {"plexichat", "redis", "prometheus", "alertmanager", "grafana"} <= set(services)
    assert services["tempo"]["profiles"] == ["tracing"]
    assert all("profiles" not in s for n, s in services.items() if n != "tempo")


def test_depends_on_targets_exist_with_conditions(services: dict[str, dict[str, Any]]) -> None:
    for name, service in services.items():
        for target, condition in service.get("depends_on", {}).items():
            assert target in services, f"{name} depends on unknown {target}"
            expected = (
                "service_completed_successfully"
                if one_shot(services[target])
                else "service_healthy"
            )
            assert condition == {"condition": expected}, f"{name} -> {target}"
    assert services["plexichat"]["depends_on"]["redis"] == {"condition": "service_healthy"}
    assert services["grafana"]["depends_on"]["prometheus"] == {"condition": "service_healthy"}


def test_every_mounted_file_exists(services: dict[str, dict[str, Any]]) -> None:
    for name, service in services.items():
        for source, target in bind_mounts(service):
            path = (COMPOSE_DIR / source).resolve()
            assert path.exists(), f"{name} mounts {source} at {target}: missing"
            if source in GENERATED:
                assert list(path.glob(GENERATED[source])), (
                    f"{name} mounts {source} with no generated files: run `plexichat-obs generate`"
                )


def test_generated_artifacts_are_mounted_read_only_from_the_generators_output(
    services: dict[str, dict[str, Any]],
) -> None:
    volumes = services["prometheus"]["volumes"] + services["grafana"]["volumes"]
    assert "../alerts:/etc/prometheus/rules:ro" in volumes
    assert "../dashboards:/etc/grafana/dashboards/plexichat:ro" in volumes


def test_host_ports_are_loopback_and_do_not_collide(services: dict[str, dict[str, Any]]) -> None:
    seen: dict[str, str] = {}
    for name, service in services.items():
        for port in service.get("ports", []):
            host, host_port, _container = port.split(":")
            assert host == "127.0.0.1", f"{name} publishes {port} beyond localhost"
            assert host_port not in seen, f"{name} and {seen.get(host_port)} both use {host_port}"
            seen[host_port] = name
    assert {"8000", "9090", "9093", "3000"} <= set(seen)


def test_every_image_is_pinned_in_the_env_file(
    services: dict[str, dict[str, Any]], overrides: dict[str, bool]
) -> None:
    written = raw(**overrides)["services"]
    for name, service in services.items():
        assert re.fullmatch(r"\$\{[A-Z_]+_IMAGE:\?[^}]+\}", written[name]["image"]), name
        image = service["image"]
        repository, _, tag = image.rpartition(":")
        assert repository, f"{name}: {image} has no tag"
        assert tag != "latest", name
        assert re.fullmatch(r"v?\d+\.\d+\.\d+(-[a-z0-9.]+)?", tag), f"{name}: {image}"


def test_long_running_services_have_healthcheck_restart_and_memory_limit(
    services: dict[str, dict[str, Any]],
) -> None:
    for name, service in services.items():
        assert service["deploy"]["resources"]["limits"]["memory"], name
        if one_shot(service):
            continue
        assert service["restart"] == "unless-stopped", name
        if name == "tempo":  # distroless: nothing to run a check with (test_image_facts)
            assert "healthcheck" not in service
            continue
        healthcheck = service["healthcheck"]
        assert healthcheck["test"][0] in ("CMD", "CMD-SHELL"), name
        assert healthcheck["start_period"], name


def test_prometheus_stays_starting_while_a_large_wal_replays() -> None:
    """/-/ready is 503 during WAL replay: failures inside start_period do not count, and
    start_interval probes often meanwhile so dependants start as soon as it is ready."""
    healthcheck = document()["services"]["prometheus"]["healthcheck"]
    assert _seconds(healthcheck["start_period"]) >= 600
    assert _seconds(healthcheck["start_interval"]) <= 5
    assert _seconds(healthcheck["interval"]) * healthcheck["retries"] <= 60  # then unhealthy soon


def _seconds(duration: str) -> int:
    match = re.fullmatch(r"(?:(\d+)m)?(?:(\d+)s)?", duration)
    assert duration, duration
    assert match is not None, duration
    return int(match[1] or 0) * 60 + int(match[2] or 0)


def test_the_service_image_is_built_once(services: dict[str, dict[str, Any]]) -> None:
    builders = [name for name, service in services.items() if "build" in service]
    assert builders == ["plexichat"]
    assert services["secrets-init"]["image"] == services["plexichat"]["image"]
    if "postgres-source" in services:
        assert services["postgres-source"]["image"] == services["plexichat"]["image"]


def test_alertmanager_runs_without_a_gossip_cluster(services: dict[str, dict[str, Any]]) -> None:
    assert "--cluster.listen-address=" in services["alertmanager"]["command"]


def test_grafana_does_not_update_bundled_plugins_at_start(
    services: dict[str, dict[str, Any]],
) -> None:
    assert services["grafana"]["environment"]["GF_PLUGINS_PREINSTALL_DISABLED"] == "true"


def test_redis_evicts_before_its_memory_limit(services: dict[str, dict[str, Any]]) -> None:
    script = services["redis"]["command"][2]
    maxmemory = re.search(r"--maxmemory (\d+)mb", script)
    assert maxmemory is not None
    assert "--maxmemory-policy allkeys-lru" in script
    limit = services["redis"]["deploy"]["resources"]["limits"]["memory"]
    assert limit.endswith("M")
    assert int(maxmemory[1]) <= 0.85 * int(limit.removesuffix("M"))


def test_data_lives_in_named_volumes(compose: dict[str, Any]) -> None:
    services = compose["services"]
    declared = set(compose["volumes"])
    for name, path in [
        ("prometheus", "/prometheus"),
        ("grafana", "/var/lib/grafana"),
        ("redis", "/data"),
        ("plexichat", "/data"),
    ]:
        named = [v.split(":")[0] for v in services[name]["volumes"] if v.split(":")[1] == path]
        assert named, f"{name}: nothing mounted at {path}"
        assert named[0] in declared, f"{name}: {named[0]} is not a named volume"


def test_service_environment_is_accepted_by_the_service_configuration(
    services: dict[str, dict[str, Any]],
) -> None:
    environ = {k: str(v) for k, v in services["plexichat"]["environment"].items()}
    environ["PLEXICHAT_PERFORMANCE__CACHING__REDIS_CACHE__PASSWORD"] = "from-the-secret-file"
    settings = load_settings(environ=environ)  # raises ConfigError naming any unknown key
    assert (settings.service.host, settings.service.port) == ("0.0.0.0", 8000)
    assert settings.performance.caching.redis_cache.host == "redis"
    entrypoint = " ".join(services["plexichat"]["entrypoint"])
    assert "PLEXICHAT_PERFORMANCE__CACHING__REDIS_CACHE__PASSWORD=" in entrypoint
    assert entrypoint.endswith("exec plexichat-obs serve")  # PID 1 gets SIGTERM


def test_redis_password_is_never_on_a_command_line(services: dict[str, dict[str, Any]]) -> None:
    script = services["redis"]["command"][2]
    assert "requirepass" not in script
    assert "sha256sum < /run/secrets/plexichat/redis-password" in script
    assert "exec redis-server - " in script  # the ACL line arrives on stdin
    assert "REDISCLI_AUTH" in services["redis"]["healthcheck"]["test"][1]


def _mirror_mounts(service: dict[str, Any], root: Path, prefix: str) -> None:
    """Lay out the service's bind mounts under ``root`` as they appear in the container."""
    for source, target in bind_mounts(service):
        if not target.startswith(prefix):
            continue
        destination = root / target.removeprefix(prefix).lstrip("/")
        destination.parent.mkdir(parents=True, exist_ok=True)
        destination.symlink_to((COMPOSE_DIR / source).resolve())


@requires_tool("promtool3")
def test_prometheus_config_passes_promtool_with_the_mounted_rules(
    services: dict[str, dict[str, Any]], overrides: dict[str, bool], tmp_path: Path
) -> None:
    prometheus = services["prometheus"]
    _mirror_mounts(prometheus, tmp_path, "/etc/prometheus")
    flags = dict(arg.removeprefix("--").partition("=")[::2] for arg in prometheus["command"])
    config = tmp_path / Path(flags["config.file"]).relative_to("/etc/prometheus")
    parsed = yaml.safe_load(config.read_text())
    # The image's Prometheus 3 configuration, checked by the newest promtool here (forky's).
    code, output = check_config(config)
    assert code == 0, output
    # The shared rule files, and an optional source's own where its override runs it.
    rule_files = list((ROOT / "alerts").glob("*.yaml"))
    optional = sorted(p.name for p in (tmp_path / "optional").glob("*.yaml"))
    assert optional == [f"{job}.yaml" for job in sorted(overrides)]
    assert f"{len(rule_files) + len(optional)} rule files found" in output
    retention = load_settings(environ={}).performance.metrics.retention_period
    assert flags["storage.tsdb.retention.time"] == retention
    assert flags["storage.tsdb.retention.size"] == dotenv()["PROMETHEUS_RETENTION_SIZE"]
    assert parsed["global"]["scrape_interval"] == "15s"
    jobs = {job["job_name"]: job for job in parsed["scrape_configs"]}
    assert jobs["plexichat"]["static_configs"][0]["targets"] == ["plexichat:8000"]
    assert_native_histograms_on_the_service_job_only(parsed)
    assert jobs["prometheus"]["static_configs"][0]["targets"] == ["localhost:9090"]
    (alertmanagers,) = parsed["alerting"]["alertmanagers"]
    assert alertmanagers["static_configs"][0]["targets"] == ["alertmanager:9093"]


@requires_tool("amtool")
def test_alertmanager_config_passes_amtool(services: dict[str, dict[str, Any]]) -> None:
    amtool = require_tool("amtool")
    config = COMPOSE_DIR / "alertmanager" / "alertmanager.yml"
    assert (
        f"./alertmanager/alertmanager.yml:{'/etc/alertmanager/alertmanager.yml'}:ro"
        in (services["alertmanager"]["volumes"])
    )
    result = subprocess.run(
        [amtool, "check-config", str(config)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    parsed = yaml.safe_load(config.read_text())
    assert parsed["route"]["group_by"] == ["alertname", "service"]
    assert parsed["route"]["receiver"] == "default"
    webhooks = [r for r in parsed["receivers"] if "webhook_configs" in r]
    assert webhooks, "no webhook receiver example"
    (inhibit,) = parsed["inhibit_rules"]
    assert inhibit["source_matchers"] == ['severity="critical"']
    assert inhibit["target_matchers"] == ['severity="warning"']
    assert inhibit["equal"] == ["alertname", "service"]


def test_grafana_provisioning_is_well_formed(
    services: dict[str, dict[str, Any]], overrides: dict[str, bool]
) -> None:
    provisioning = COMPOSE_DIR / "grafana" / "provisioning"
    sources = grafana.check_datasources(
        yaml.safe_load((provisioning / "datasources" / "datasources.yaml").read_text())
    )
    assert {s["url"] for s in sources} == {"http://prometheus:9090", "http://tempo:3200"}
    paths = grafana.check_dashboard_providers(
        yaml.safe_load((provisioning / "dashboards" / "dashboards.yaml").read_text())
    )
    targets = {target for _, target in bind_mounts(services["grafana"])}
    # The provider reads the tree the dashboards are mounted into: the shared directory, and
    # an optional source's own dashboard where its override runs it.
    dashboards = {t for t in targets if t.startswith("/etc/grafana/dashboards")}
    assert dashboards == {"/etc/grafana/dashboards/plexichat"} | {
        f"/etc/grafana/dashboards/optional/{job}.json" for job in overrides
    }
    for target in dashboards:
        assert any(PurePosixPath(target).is_relative_to(path) for path in paths), target
    assert "/etc/grafana/provisioning" in targets


def test_grafana_has_no_default_password_and_no_anonymous_access(
    services: dict[str, dict[str, Any]],
) -> None:
    environment = services["grafana"]["environment"]
    assert "GF_SECURITY_ADMIN_PASSWORD" not in environment
    assert environment["GF_SECURITY_ADMIN_PASSWORD__FILE"].startswith("/run/secrets/plexichat/")
    assert environment["GF_AUTH_ANONYMOUS_ENABLED"] == "false"
    assert "PASSWORD" not in (COMPOSE_DIR / ".env").read_text()


def _run_secrets_init(directory: Path, **environ: str) -> None:
    env = {"PATH": os.environ["PATH"], "SECRETS_DIR": str(directory), **environ}
    subprocess.run(
        [sys.executable, str(COMPOSE_DIR / "secrets-init" / "init.py")],
        env=env,
        check=True,
        capture_output=True,
    )


def test_secrets_are_created_once_kept_and_overridable(tmp_path: Path) -> None:
    _run_secrets_init(tmp_path)
    first = {p.name: p.read_text() for p in tmp_path.iterdir()}
    assert set(first) == {"grafana-admin-password", "redis-password"}
    assert all(len(value) >= 32 for value in first.values())
    assert first["grafana-admin-password"] != first["redis-password"]
    _run_secrets_init(tmp_path)
    assert {p.name: p.read_text() for p in tmp_path.iterdir()} == first
    _run_secrets_init(tmp_path, GRAFANA_ADMIN_PASSWORD="chosen-by-me")
    assert (tmp_path / "grafana-admin-password").read_text() == "chosen-by-me"
    assert (tmp_path / "redis-password").read_text() == first["redis-password"]


def test_secrets_init_refuses_a_password_with_a_line_break(tmp_path: Path) -> None:
    env = {"PATH": os.environ["PATH"], "SECRETS_DIR": str(tmp_path), "REDIS_PASSWORD": "a\nb"}
    result = subprocess.run(
        [sys.executable, str(COMPOSE_DIR / "secrets-init" / "init.py")],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert "REDIS_PASSWORD: a password may not contain a line break" in result.stderr
    assert not (tmp_path / "redis-password").exists()


def test_workers_share_their_metrics_through_a_sized_tmpfs(
    services: dict[str, dict[str, Any]],
) -> None:
    service = services["plexichat"]
    environment = service["environment"]
    assert int(environment["PLEXICHAT_SERVICE__WORKERS"]) > 1
    assert environment["PLEXICHAT_PERFORMANCE__CACHING__REDIS_CACHE__ENABLED"] == "true"
    directory = environment["PLEXICHAT_PERFORMANCE__OBSERVABILITY__MULTIPROCESS_DIR"]
    mounts = dict(
        entry.split(":", 1) if ":" in entry else (entry, "") for entry in service["tmpfs"]
    )
    options = dict(option.split("=") for option in mounts[directory].split(","))
    assert options["size"] == "64m"
    assert options["mode"] == "1777"  # the service's non-root user writes its slots there


def test_prometheus_stores_exemplars_and_grafana_links_them_to_tempo(
    services: dict[str, dict[str, Any]],
) -> None:
    assert "--enable-feature=exemplar-storage" in services["prometheus"]["command"]
    sources = yaml.safe_load(
        (COMPOSE_DIR / "grafana" / "provisioning" / "datasources" / "datasources.yaml").read_text()
    )
    by_uid = {s["uid"]: s for s in sources["datasources"]}
    (link,) = by_uid["prometheus"]["jsonData"]["exemplarTraceIdDestinations"]
    assert link == {"name": "trace_id", "datasourceUid": "tempo"}
    assert by_uid[link["datasourceUid"]]["type"] == "tempo"


@requires_tool("prometheus3")
def test_a_real_prometheus_scrapes_exactly_the_overrides_exporters(
    services: dict[str, dict[str, Any]], overrides: dict[str, bool], tmp_path: Path
) -> None:
    """A real Prometheus 3 (forky's) on the configuration as mounted: job postgres and job node
    find their targets only where their override mounts the targets file, and a missing one is
    no target and no error in the log (the overrides add up, whichever are named)."""
    prometheus = services["prometheus"]
    _mirror_mounts(prometheus, tmp_path, "/etc/prometheus")
    config = tmp_path / "prometheus.yml"
    features = readable(config, "prometheus3")
    port = free_port()
    log = tmp_path / "prometheus.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                require_tool("prometheus3"),
                f"--config.file={config}",
                f"--storage.tsdb.path={tmp_path / 'tsdb'}",
                f"--web.listen-address=127.0.0.1:{port}",
                *(f"--enable-feature={feature}" for feature in features),
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:

            def discovered() -> dict[str, set[str]]:
                url = f"http://127.0.0.1:{port}/api/v1/targets"
                active = httpx.get(url, timeout=2).json()["data"]["activeTargets"]
                found: dict[str, set[str]] = {}
                for target in active:
                    found.setdefault(target["labels"]["job"], set()).add(
                        target["labels"]["instance"]
                    )
                return found

            wanted = {"postgres": "postgres-exporter:9187", "node": "node-exporter:9100"}
            expected = {job: {wanted[job]} for job in overrides}

            def settled() -> bool:
                try:
                    found = discovered()
                except (httpx.HTTPError, ValueError):  # not up yet, or not ready (no JSON)
                    return False
                return "plexichat" in found and all(found.get(j) == e for j, e in expected.items())

            wait_for(settled, 30, "Prometheus to discover its targets")
            found = discovered()
            for job in wanted:
                assert found.get(job) == expected.get(job), job
        finally:
            stop(process)
    assert "file.go" not in log.read_text(), log.read_text()[-2000:]  # no file_sd error
