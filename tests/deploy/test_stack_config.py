"""One source for the stack's Prometheus and Alertmanager configuration: what Compose mounts,
what the chart renders and what ``plexichat-obs up`` writes are ``plexichat.generate.stack``'s
data for each target's parameters. The chart's merged blocks are checked here against the data
the same parameters give in Python, so the template cannot drift from the source."""

from __future__ import annotations

import dataclasses
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from plexichat.generate import promql
from plexichat.generate.dependencies import REDIS_EXPORTER_PORT, REDIS_JOB
from plexichat.generate.node import NODE_JOB
from plexichat.generate.postgres import POSTGRES_EXPORTER_PORT, POSTGRES_JOB, SCRAPE_FLOOR_S
from plexichat.generate.stack import alertmanager, prometheus
from plexichat.generate.stack.targets import COMPOSE, HELM, up_target
from plexichat.generate.watchers import ALERTMANAGER_JOB, PROMETHEUS_JOB, WATCHDOG
from tests.deploy.chart import objects, one, render
from tests.deploy.compose import COMPOSE_DIR, bind_mounts, document, dotenv, interpolate
from tests.support.tools import promtool, require_tool, requires_tool

SERVICE = "obs-plexichat-observability-plexichat:8000"
REDIS_EXPORTER = f"obs-plexichat-observability-redis-exporter:{REDIS_EXPORTER_PORT}"
POSTGRES_EXPORTER = f"obs-plexichat-observability-postgres-exporter:{POSTGRES_EXPORTER_PORT}"
DATABASE = {"plexichat": {"database": {"urlSecret": {"name": "plexichat-database"}}}}
"""Chart values giving the service PostgreSQL (a Secret with its URL)."""
UP_COMPONENTS = ("service", "prometheus", "alertmanager", "receiver", "redis", "redis_exporter")
"""up's components without PostgreSQL (with it, ``postgres_exporter`` has a port too)."""
ALERTMANAGER = "obs-plexichat-observability-alertmanager:9093"


def _container(rendered: list[dict[str, Any]], component: str) -> dict[str, Any]:
    deployment = one(rendered, "Deployment", component)
    container: dict[str, Any] = deployment["spec"]["template"]["spec"]["containers"][0]
    return container


def _config(rendered: list[dict[str, Any]], component: str, key: str) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(one(rendered, "ConfigMap", component)["data"][key])
    return data


def _mounted_prometheus_config(services: dict[str, Any]) -> dict[str, Any]:
    (source,) = [s for s, t in bind_mounts(services["prometheus"]) if t.endswith(".yml")]
    config: dict[str, Any] = yaml.safe_load((COMPOSE_DIR / source).read_text())
    return config


def test_compose_mounts_and_runs_the_compose_targets_data() -> None:
    services = document()["services"]
    mounted = yaml.safe_load((COMPOSE_DIR / "prometheus" / "prometheus.yml").read_text())
    assert mounted == prometheus.config(COMPOSE)
    assert _mounted_prometheus_config(services) == mounted
    # An optional exporter's override mounts its job's target beside the same configuration.
    for job, address in (
        (POSTGRES_JOB, COMPOSE.postgres_exporter_address),
        (NODE_JOB, COMPOSE.node_exporter_address),
    ):
        assert address is not None
        overridden = document(**{job: True})["services"]
        assert _mounted_prometheus_config(overridden) == mounted
        target = f"/etc/prometheus/{prometheus.targets_file(job)}"
        (source,) = [s for s, t in bind_mounts(overridden["prometheus"]) if t == target]
        mounted_targets = yaml.safe_load((COMPOSE_DIR / source).read_text())
        assert mounted_targets == prometheus.targets(job, address)
        assert target not in {t for _, t in bind_mounts(services["prometheus"])}
    routed = yaml.safe_load((COMPOSE_DIR / "alertmanager" / "alertmanager.yml").read_text())
    assert routed == alertmanager.config(COMPOSE)
    expected = [interpolate(arg, dotenv()) for arg in prometheus.flags(COMPOSE)]
    assert services["prometheus"]["command"] == expected
    assert services["alertmanager"]["command"] == alertmanager.flags(COMPOSE)
    # Alertmanager's webhook reaches a service of the stack.
    assert "receiver" in services
    assert "--port=9095" in services["receiver"]["entrypoint"]


@pytest.mark.parametrize("database", ["sqlite", "postgres"])
@pytest.mark.parametrize("discovery", ["static", "kubernetes"])
def test_the_charts_prometheus_is_the_helm_targets_data_with_its_values(
    discovery: str, database: str
) -> None:
    values: dict[str, Any] = {"prometheus": {"discovery": discovery}}
    if database == "postgres":
        values |= DATABASE
    rendered = objects(render(values))
    config = _config(rendered, "prometheus", "prometheus.yml")
    target = dataclasses.replace(
        HELM,
        service_targets=(SERVICE,) if discovery == "static" else None,
        alertmanager_address=ALERTMANAGER,
        redis_exporter_address=REDIS_EXPORTER,
        postgres_exporter_address=POSTGRES_EXPORTER if database == "postgres" else None,
    )
    expected = prometheus.config(target)
    if discovery == "kubernetes":
        job = config["scrape_configs"][0]
        assert job.pop("kubernetes_sd_configs")[0]["role"] == "pod"
        generated = expected["scrape_configs"][0]["relabel_configs"]
        assert job["relabel_configs"][-len(generated) :] == generated  # the chart's go first
        job["relabel_configs"] = generated
    assert config == expected


def test_the_charts_value_blocks_switch_with_the_values() -> None:
    rendered = objects(
        render(
            {
                "alertmanager": {"enabled": False},
                "prometheus": {"scrapeInterval": "30s", "remoteWrite": [{"url": "http://m/"}]},
            }
        )
    )
    config = _config(rendered, "prometheus", "prometheus.yml")
    assert "alerting" not in config
    jobs = [job["job_name"] for job in config["scrape_configs"]]
    assert jobs == ["plexichat", "prometheus", REDIS_JOB]
    assert config["global"]["scrape_interval"] == "30s"
    assert config["remote_write"] == [{"url": "http://m/"}]


@pytest.mark.parametrize("webhook", [None, "http://hook.example:9000/alerts"])
@pytest.mark.parametrize("heartbeat", [None, "https://hc-ping.example/uuid"])
def test_the_charts_alertmanager_is_the_helm_targets_data(
    webhook: str | None, heartbeat: str | None
) -> None:
    values = {"webhookUrl": webhook or "", "watchdogUrl": heartbeat or ""}
    rendered = objects(render({"alertmanager": values}))
    config = _config(rendered, "alertmanager", "alertmanager.yml")
    target = dataclasses.replace(HELM, webhook_url=webhook, heartbeat_url=heartbeat)
    assert config == alertmanager.config(target)


def test_the_charts_command_lines_are_the_generated_flags_and_its_retention() -> None:
    rendered = objects(render())
    args = _container(rendered, "prometheus")["args"]
    assert args[: len(prometheus.flags(HELM))] == prometheus.flags(HELM)
    assert [a.split("=")[0] for a in args[len(prometheus.flags(HELM)) :]] == [
        "--storage.tsdb.retention.time",
        "--storage.tsdb.retention.size",
    ]
    assert _container(rendered, "alertmanager")["args"] == alertmanager.flags(HELM)


def test_every_target_routes_and_inhibits_alike() -> None:
    configs = [
        alertmanager.config(target)
        for target in (
            COMPOSE,
            HELM,
            up_target(
                Path("/s"),
                dict.fromkeys(
                    (
                        "service",
                        "prometheus",
                        "alertmanager",
                        "receiver",
                        "redis",
                        "redis_exporter",
                    ),
                    1,
                ),
                0.01,
            ),
        )
    ]

    def untimed(route: dict[str, Any]) -> dict[str, Any]:
        shape = {k: v for k, v in route.items() if not k.endswith(("_wait", "_interval"))}
        if "routes" in shape:
            shape["routes"] = [untimed(r) for r in shape["routes"]]
        return shape

    shapes = [
        (
            untimed(c["route"]),
            c["inhibit_rules"],
            [r["name"] for r in c["receivers"]],
        )
        for c in configs
    ]
    assert shapes[0] == shapes[1] == shapes[2]
    # One sub-route, the Watchdog's: every other alert goes to the default receiver.
    for config in configs:
        (heartbeat,) = config["route"]["routes"]
        assert heartbeat["matchers"] == [f'alertname="{WATCHDOG}"']
        assert heartbeat["receiver"] == alertmanager.HEARTBEAT_RECEIVER
        assert "continue" not in heartbeat  # it goes to the heartbeat only
        assert promql.seconds(heartbeat["repeat_interval"]) <= 60
        # Alertmanager re-sends only at a group interval's tick.
        assert promql.seconds(heartbeat["group_interval"]) < promql.seconds(
            heartbeat["repeat_interval"]
        )


def test_the_watchdog_is_neither_inhibited_nor_inhibiting_and_never_resolves() -> None:
    config = alertmanager.config(COMPOSE)
    watchdog = {"alertname": WATCHDOG, "severity": "none", "service": "prometheus"}
    for rule in config["inhibit_rules"]:
        for side in ("source_matchers", "target_matchers"):
            for matcher in rule[side]:
                name, value = matcher.split("=", 1)
                assert watchdog.get(name) != value.strip('"'), (rule, side)
    receivers = {r["name"]: r for r in config["receivers"]}
    (hook,) = receivers[alertmanager.HEARTBEAT_RECEIVER]["webhook_configs"]
    assert hook == {"url": "http://receiver:9095/watchdog", "send_resolved": False}


@pytest.mark.parametrize("scenario", ["compose", "helm", "helm-without-alertmanager", "up"])
def test_every_target_scrapes_prometheus_and_alertmanager_themselves(scenario: str) -> None:
    """The jobs the stack alerts select, in the configuration each target really runs."""
    ports = dict.fromkeys(UP_COMPONENTS, 9)
    if scenario == "compose":
        config = yaml.safe_load((COMPOSE_DIR / "prometheus" / "prometheus.yml").read_text())
        expected = {"prometheus": ["localhost:9090"], "alertmanager": ["alertmanager:9093"]}
    elif scenario == "up":
        config = prometheus.config(up_target(Path("/s"), ports))
        expected = {"prometheus": ["127.0.0.1:9"], "alertmanager": ["127.0.0.1:9"]}
    else:
        enabled = scenario == "helm"
        rendered = objects(render({"alertmanager": {"enabled": enabled}}))
        config = _config(rendered, "prometheus", "prometheus.yml")
        expected = {"prometheus": ["localhost:9090"]}
        if enabled:
            expected["alertmanager"] = [ALERTMANAGER]
    jobs = {
        job["job_name"]: [t for c in job.get("static_configs", []) for t in c["targets"]]
        for job in config["scrape_configs"]
    }
    assert {name: jobs.get(name) for name in (PROMETHEUS_JOB, ALERTMANAGER_JOB)} == {
        PROMETHEUS_JOB: expected["prometheus"],
        ALERTMANAGER_JOB: expected.get("alertmanager"),
    }
    if "alertmanager" in expected:
        (alerting,) = config["alerting"]["alertmanagers"]
        assert alerting["static_configs"][0]["targets"] == expected["alertmanager"]


def test_up_re_sends_alerts_as_much_sooner_as_its_time_runs_faster() -> None:
    """A dropped or failed send is made good by the next re-send (after every /-/reload the
    first ones find no Alertmanager): Prometheus' minute, scaled, at most once an evaluation;
    the shipped targets keep Prometheus' default."""
    ports = dict.fromkeys(UP_COMPONENTS, 9)

    def resend(flags: list[str]) -> list[str]:
        return [f for f in flags if f.startswith("--rules.alert.resend-delay")]

    assert resend(prometheus.flags(up_target(Path("/s"), ports, 0.01))) == [
        "--rules.alert.resend-delay=1s"  # 0.6 s, but Prometheus evaluates every second
    ]
    assert resend(prometheus.flags(up_target(Path("/s"), ports, 0.5))) == [
        "--rules.alert.resend-delay=30s"
    ]
    for target in (up_target(Path("/s"), ports), COMPOSE, HELM):
        assert resend(prometheus.flags(target)) == []


@requires_tool("promtool", "amtool")
def test_the_up_targets_files_pass_promtool_and_amtool(tmp_path: Path) -> None:
    target = up_target(
        tmp_path,
        {
            "service": 8000,
            "prometheus": 9090,
            "alertmanager": 9093,
            "receiver": 9095,
            "redis": 6380,
            "redis_exporter": 9121,
            "postgres_exporter": 9187,
        },
        0.01,
    )
    (tmp_path / "prometheus" / "rules").mkdir(parents=True)
    path = tmp_path / "prometheus.yml"
    path.write_text(yaml.safe_dump(prometheus.config(target)))
    code, output = promtool("check", "config", str(path))
    assert code == 0, output
    amtool = require_tool("amtool")
    routes = tmp_path / "alertmanager.yml"
    routes.write_text(yaml.safe_dump(alertmanager.config(target)))
    checked = subprocess.run(
        [amtool, "check-config", str(routes)], capture_output=True, text=True, check=False
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


@pytest.mark.parametrize("scenario", ["compose", "helm", "helm-without-exporter", "up"])
def test_every_target_that_runs_redis_scrapes_its_exporter(scenario: str) -> None:
    """Job ``redis`` (the dependency alerts' job) at redis_exporter, wherever Redis runs."""
    ports = dict.fromkeys(UP_COMPONENTS, 9)
    expected: list[str] | None
    if scenario == "compose":
        config = yaml.safe_load((COMPOSE_DIR / "prometheus" / "prometheus.yml").read_text())
        expected = [f"redis-exporter:{REDIS_EXPORTER_PORT}"]
        assert "redis-exporter" in document()["services"]
    elif scenario == "up":
        config = prometheus.config(up_target(Path("/s"), ports))
        expected = ["127.0.0.1:9"]
    else:
        enabled = scenario == "helm"
        rendered = objects(render({"redisExporter": {"enabled": enabled}}))
        config = _config(rendered, "prometheus", "prometheus.yml")
        expected = [REDIS_EXPORTER]
        if not enabled:
            expected = None
            assert not [o for o in rendered if "redis-exporter" in o["metadata"]["name"]]
        else:
            container = _container(rendered, "redis-exporter")
            assert "REDIS_PASSWORD" in {e["name"] for e in container["env"]}
            assert not container.get("args")
            assert not container.get("command")
    jobs = {
        job["job_name"]: [t for c in job.get("static_configs", []) for t in c["targets"]]
        for job in config["scrape_configs"]
    }
    assert jobs.get(REDIS_JOB) == expected
    if scenario == "helm":  # no Redis in the release: no exporter, no job
        rendered = objects(render({"redis": {"enabled": False}, "externalRedis": {"host": "x"}}))
        config = _config(rendered, "prometheus", "prometheus.yml")
        assert REDIS_JOB not in {job["job_name"] for job in config["scrape_configs"]}


def _targets(config: dict[str, Any]) -> dict[str, list[str]]:
    return {
        job["job_name"]: [t for c in job.get("static_configs", []) for t in c["targets"]]
        for job in config["scrape_configs"]
    }


def _compose_targets(services: dict[str, Any]) -> dict[str, list[str]]:
    """The targets of each Compose job that has one, in the configuration's order: its static
    ones, or those of the file_sd files its services mount beside the configuration."""
    mounted = {t: s for s, t in bind_mounts(services["prometheus"])}
    found = {}
    for job in _mounted_prometheus_config(services)["scrape_configs"]:
        targets = [t for c in job.get("static_configs", []) for t in c["targets"]]
        for sd in job.get("file_sd_configs", []):
            for name in sd["files"]:
                source = mounted.get(f"/etc/prometheus/{name}")
                if source is not None:
                    groups = yaml.safe_load((COMPOSE_DIR / source).read_text())
                    targets += [t for group in groups for t in group["targets"]]
        if targets:
            found[job["job_name"]] = targets
    return found


@pytest.mark.parametrize(
    "scenario",
    [
        "compose",
        "compose-postgres",
        "helm",
        "helm-postgres",
        "helm-postgres-without-exporter",
        "up",
        "up-postgres",
    ],
)
def test_job_postgres_is_where_the_service_uses_postgresql_and_nowhere_else(
    scenario: str,
) -> None:
    """Job ``postgres`` at postgres_exporter exactly where the service is given PostgreSQL:
    absent PostgreSQL, no job and no exporter, by generation."""
    expected: list[str] | None = None
    if scenario.startswith("compose"):
        services = document(postgres=scenario == "compose-postgres")["services"]
        if scenario == "compose-postgres":
            expected = [f"postgres-exporter:{POSTGRES_EXPORTER_PORT}"]
        assert ("postgres-exporter" in services) == (expected is not None)
        assert _compose_targets(services).get(POSTGRES_JOB) == expected
        return
    elif scenario.startswith("up"):
        ports = dict.fromkeys(UP_COMPONENTS, 9)
        if scenario == "up-postgres":
            ports["postgres_exporter"] = 19187
            expected = ["127.0.0.1:19187"]
        config = prometheus.config(up_target(Path("/s"), ports))
    else:
        values: dict[str, Any] = DATABASE if "postgres" in scenario else {}
        if scenario == "helm-postgres-without-exporter":
            values = values | {"postgresExporter": {"enabled": False}}
        rendered = objects(render(values))
        config = _config(rendered, "prometheus", "prometheus.yml")
        if scenario == "helm-postgres":
            expected = [POSTGRES_EXPORTER]
        exporters = [o for o in rendered if "postgres-exporter" in o["metadata"]["name"]]
        assert bool(exporters) == (expected is not None)
    assert _targets(config).get(POSTGRES_JOB) == expected


@pytest.mark.parametrize("database", ["sqlite", "postgres"])
def test_compose_and_helm_scrape_the_same_jobs(database: str) -> None:
    """Parity: the bundles, each with and without PostgreSQL, run the same scrape jobs."""
    services = document(postgres=database == "postgres")["services"]
    helm = _config(
        objects(render(DATABASE if database == "postgres" else {})), "prometheus", "prometheus.yml"
    )
    jobs = list(_compose_targets(services))  # a job without a target scrapes nothing
    assert jobs == [job["job_name"] for job in helm["scrape_configs"]]
    assert (POSTGRES_JOB in jobs) == (database == "postgres")


@pytest.mark.parametrize("time_scale", [1.0, 0.1, 0.01])
def test_job_postgres_is_never_scraped_faster_than_the_exporter_answers_without_postgresql(
    time_scale: float,
) -> None:
    ports = dict.fromkeys(UP_COMPONENTS, 9) | {"postgres_exporter": 10}
    config = prometheus.config(up_target(Path("/s"), ports, time_scale))
    (job,) = [j for j in config["scrape_configs"] if j["job_name"] == POSTGRES_JOB]
    interval = promql.seconds(job.get("scrape_interval", config["global"]["scrape_interval"]))
    # Prometheus' default timeout: 10 s, but never above the interval.
    timeout = promql.seconds(job["scrape_timeout"]) if "scrape_timeout" in job else 10
    assert min(interval, timeout) >= SCRAPE_FLOOR_S
    (shipped,) = [
        j for j in prometheus.config(COMPOSE)["scrape_configs"] if j["job_name"] == POSTGRES_JOB
    ]
    assert set(shipped) == {"job_name", "file_sd_configs"}  # 15 s: the global timing
