"""The Helm chart, rendered by the real Helm v4 engine and checked by the tools that own each part:
Kubernetes' schemas (kubernetes-validate), the prometheus-operator models, promtool and amtool."""

from __future__ import annotations

import base64
import copy
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import helm_python
import kubernetes_validate
import pytest
import yaml
from cloudcoil.models.prometheus_operator import v1 as monitoring

from plexichat.config import load_settings
from plexichat.generate.dependencies import REDIS_JOB
from plexichat.generate.stack.targets import HELM
from tests.deploy import grafana
from tests.deploy.chart import (
    CHART,
    NAMESPACE,
    RELEASE,
    SCENARIOS,
    find,
    generated_files,
    objects,
    one,
    optional_sources,
    pod_specs,
    prometheus_config_dir,
    render,
    scenario_values,
)
from tests.deploy.prometheus_config import assert_native_histograms_on_the_service_job_only
from tests.support import newer_keys
from tests.support.newer_keys import check_config
from tests.support.tools import promtool, require_tool, requires_tool

KUBERNETES_VERSIONS = ["1.30.0", kubernetes_validate.latest_version()]
OPERATOR_KINDS = {
    "ServiceMonitor": monitoring.ServiceMonitor,
    "PrometheusRule": monitoring.PrometheusRule,
}
CASES = [None, *SCENARIOS]
CASE_IDS = ["defaults", *(path.name.removesuffix("-values.yaml") for path in SCENARIOS)]


@pytest.fixture(scope="module", params=CASES, ids=CASE_IDS)
def rendered(request: pytest.FixtureRequest) -> list[dict[str, Any]]:
    """The objects of the defaults and of each ci/*-values.yaml scenario."""
    return objects(render(scenario_values(request.param)))


def test_lint_has_no_finding_at_warning_or_above() -> None:
    result = helm_python.lint(CHART, strict=True)
    serious = [m for m in result["messages"] if m["severity"] >= 2]
    assert not serious, serious
    assert not result["errors"], result["errors"]


def test_the_scenarios_cover_standalone_operator_external_redis_and_ha() -> None:
    assert {path.name for path in SCENARIOS} >= {
        "standalone-values.yaml",
        "operator-values.yaml",
        "external-redis-values.yaml",
        "ha-values.yaml",
    }


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_every_object_passes_the_kubernetes_schema_strictly(
    rendered: list[dict[str, Any]], version: str
) -> None:
    for obj in rendered:
        if obj["kind"] in OPERATOR_KINDS:
            continue
        kubernetes_validate.validate(obj, version, strict=True)


def test_operator_objects_pass_the_prometheus_operator_models(
    rendered: list[dict[str, Any]],
) -> None:
    for obj in rendered:
        model = OPERATOR_KINDS.get(obj["kind"])
        if model is None:
            continue
        checked = copy.deepcopy(obj)
        # Fields newer than the models (their presence: the operator-mode test).
        newer_keys.strip([checked["spec"]], newer_keys.OPERATOR, newer_keys.operator_models())
        parsed = model.model_validate(checked)
        # The models ignore unknown fields: a round trip that loses a field means a typo.
        assert parsed.model_dump(by_alias=True, exclude_unset=True, mode="json") == checked


def test_every_pod_is_non_root_read_only_without_capabilities_with_seccomp(
    rendered: list[dict[str, Any]],
) -> None:
    pods = list(pod_specs(rendered))
    assert pods
    for where, spec in pods:
        pod_context = spec["securityContext"]
        assert pod_context["runAsNonRoot"] is True, where
        assert pod_context["runAsUser"] > 0, where
        assert pod_context["seccompProfile"] == {"type": "RuntimeDefault"}, where
        assert spec["enableServiceLinks"] is False, where
        assert not any("hostPath" in volume for volume in spec.get("volumes", [])), where
        assert not spec.get("hostNetwork"), where
        assert not spec.get("hostPID"), where
        for container in spec["containers"] + spec.get("initContainers", []):
            context = container["securityContext"]
            name = f"{where} container {container['name']}"
            assert context["readOnlyRootFilesystem"] is True, name
            assert context["allowPrivilegeEscalation"] is False, name
            assert context["capabilities"]["drop"] == ["ALL"], name
            assert "add" not in context["capabilities"], name
            assert context.get("privileged", False) is False, name
            assert ":" in container["image"], name
            assert not container["image"].endswith(":latest"), name


def test_every_object_carries_the_standard_labels(rendered: list[dict[str, Any]]) -> None:
    for obj in rendered:
        labels = obj["metadata"]["labels"]
        assert labels["helm.sh/chart"] == "plexichat-observability-0.1.0"
        assert labels["app.kubernetes.io/name"] == "plexichat-observability"
        assert labels["app.kubernetes.io/instance"] == RELEASE
        assert labels["app.kubernetes.io/managed-by"] == "Helm"
        assert labels["app.kubernetes.io/version"] == "0.1.0"
        assert len(obj["metadata"]["name"]) <= 63


def test_pods_with_configuration_restart_when_it_changes() -> None:
    deployments = {
        d["metadata"]["labels"]["app.kubernetes.io/component"]: d
        for d in find(objects(render()), "Deployment")
    }
    for component in ("plexichat", "prometheus", "alertmanager", "grafana"):
        annotations = deployments[component]["spec"]["template"]["metadata"]["annotations"]
        assert len(annotations["checksum/config"]) == 64, component
    before = one(objects(render()), "Deployment", "alertmanager")
    after = one(
        objects(render({"alertmanager": {"webhookUrl": "http://hook.example:9000/"}})),
        "Deployment",
        "alertmanager",
    )
    key = "checksum/config"
    assert (
        before["spec"]["template"]["metadata"]["annotations"][key]
        != after["spec"]["template"]["metadata"]["annotations"][key]
    )


def test_service_environment_is_accepted_by_the_service_configuration(
    rendered: list[dict[str, Any]],
) -> None:
    deployment = one(rendered, "Deployment", "plexichat")
    config_map = one(rendered, "ConfigMap", "plexichat")
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    environ = dict(config_map["data"])
    for variable in container.get("env", []):
        environ[variable["name"]] = variable.get("value", "from-a-secret")
    if "PLEXICHAT_SERVICE__DATABASE_URL" in environ:
        environ["PLEXICHAT_SERVICE__DATABASE_URL"] = "postgresql+asyncpg://u:p@db/plexichat"
    settings = load_settings(environ=environ)  # raises ConfigError naming any unknown key
    assert settings.service.host == "0.0.0.0"
    assert settings.service.port == 8000
    assert str(settings.service.data_dir) == "/data"
    mounts = {m["mountPath"] for m in container["volumeMounts"]}
    assert {"/data", "/tmp"} <= mounts


def test_probes_use_health_and_readiness_endpoints() -> None:
    container = one(objects(render()), "Deployment", "plexichat")["spec"]["template"]["spec"][
        "containers"
    ][0]
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["ports"] == [{"name": "http", "containerPort": 8000, "protocol": "TCP"}]


def test_secret_is_generated_with_both_passwords_and_nothing_secret_is_in_values() -> None:
    rendered = objects(render())
    secret = one_secret(rendered)
    assert set(secret["data"]) == {"grafana-admin-password", "redis-password"}
    for value in secret["data"].values():
        assert len(base64.b64decode(value)) == 32
    values_text = (CHART / "values.yaml").read_text().lower()
    assert "password:" not in values_text


def one_secret(rendered: list[dict[str, Any]]) -> dict[str, Any]:
    secrets = find(rendered, "Secret")
    assert len(secrets) == 1
    return secrets[0]


def test_existing_secret_is_used_and_no_secret_is_created() -> None:
    rendered = objects(render({"secrets": {"existingSecret": "my-secrets"}}))
    assert find(rendered, "Secret") == []
    references = [
        ref["valueFrom"]["secretKeyRef"]
        for _, spec in pod_specs(rendered)
        for container in spec["containers"]
        for ref in container.get("env", [])
        if "valueFrom" in ref
    ]
    assert {(r["name"], r["key"]) for r in references} == {
        ("my-secrets", "grafana-admin-password"),
        ("my-secrets", "redis-password"),
    }
    notes = render({"secrets": {"existingSecret": "my-secrets"}})
    assert "get secret my-secrets" in next(t for p, t in notes.items() if p.endswith("NOTES.txt"))


def test_secret_template_reads_back_the_existing_secret_with_lookup() -> None:
    # lookup needs a cluster (offline it returns nothing): check the template asks for it.
    template = (CHART / "templates" / "secret.yaml").read_text()
    assert 'lookup "v1" "Secret" .Release.Namespace $name' in template
    assert 'get $data "grafana-admin-password"' in template
    assert 'get $data "redis-password"' in template


def test_external_redis_scenario_points_the_service_at_it() -> None:
    rendered = objects(render(scenario_values(CHART / "ci" / "external-redis-values.yaml")))
    assert find(rendered, "Deployment", "redis") == []
    data = one(rendered, "ConfigMap", "plexichat")["data"]
    assert data["PLEXICHAT_PERFORMANCE__CACHING__REDIS_CACHE__HOST"] == (
        "redis-master.cache.svc.cluster.local"
    )
    assert data["PLEXICHAT_PERFORMANCE__CACHING__REDIS_CACHE__PORT"] == "6380"
    env = one(rendered, "Deployment", "plexichat")["spec"]["template"]["spec"]["containers"][0][
        "env"
    ]
    assert {"name": "redis-auth", "key": "password"} in [
        e["valueFrom"]["secretKeyRef"] for e in env
    ]


def test_ha_scenario_has_autoscaler_disruption_budget_and_database_secret() -> None:
    rendered = objects(render(scenario_values(CHART / "ci" / "ha-values.yaml")))
    hpa = one(rendered, "HorizontalPodAutoscaler", "plexichat")
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (3, 10)
    assert one(rendered, "PodDisruptionBudget", "plexichat")["spec"]["minAvailable"] == 2
    deployment = one(rendered, "Deployment", "plexichat")
    assert "replicas" not in deployment["spec"]  # the autoscaler owns it
    spec = deployment["spec"]["template"]["spec"]
    assert spec["topologySpreadConstraints"][0]["whenUnsatisfiable"] == "DoNotSchedule"
    names = [e["name"] for e in spec["containers"][0]["env"]]
    assert "PLEXICHAT_SERVICE__DATABASE_URL" in names


@pytest.mark.parametrize(
    ("values", "named"),
    [
        ({"plexichat": {"replicaCount": 2}}, "/plexichat/database/urlSecret/name"),
        ({"plexichat": {"autoscaling": {"enabled": True}}}, "/plexichat/database/urlSecret/name"),
        ({"plexichat": {"profile": "staging"}}, "/plexichat/profile"),
        ({"prometheus": {"discovery": "consul"}}, "/prometheus/discovery"),
        ({"prometheus": {"retention": "thirty days"}}, "/prometheus/retention"),
        ({"grafana": {"adminPassword": "admin"}}, "adminPassword"),
        ({"plexichat": {"env": {"HOME": "/root"}}}, "HOME"),
        ({"operator": {"enabled": True}}, "/prometheus/enabled"),
        ({"imagePullSecret": []}, "imagePullSecret"),
    ],
    ids=[
        "replicas-with-sqlite",
        "autoscaling-with-sqlite",
        "profile",
        "discovery",
        "retention",
        "unknown-key",
        "env-name",
        "operator-with-bundled-prometheus",
        "misspelt-top-level",
    ],
)
def test_schema_rejects_a_bad_value_naming_it(values: dict[str, Any], named: str) -> None:
    with pytest.raises(helm_python.HelmError) as error:
        render(values)
    assert named in str(error.value)


def test_replicas_with_external_database_and_redis_are_accepted() -> None:
    values = {
        "plexichat": {"replicaCount": 3, "database": {"urlSecret": {"name": "db"}}},
        "redis": {"enabled": False},
        "externalRedis": {"host": "redis.cache"},
    }
    deployment = one(objects(render(values)), "Deployment", "plexichat")
    assert deployment["spec"]["replicas"] == 3
    without_redis = {**values, "externalRedis": {"host": ""}}
    with pytest.raises(helm_python.HelmError):
        render(without_redis)


def test_generated_rules_are_loaded_byte_for_byte() -> None:
    files = generated_files("rules")
    assert files, "no generated rule files in the chart (run `plexichat-obs generate`)"
    rules = one(objects(render()), "ConfigMap", "prometheus-rules")["data"]
    assert rules == {path.name: path.read_text() for path in files}
    projected = one(objects(render()), "Deployment", "prometheus")["spec"]["template"]["spec"][
        "volumes"
    ][0]["projected"]["sources"]
    paths = [item["path"] for source in projected for item in source["configMap"].get("items", [])]
    assert paths == [f"rules/{path.name}" for path in files]


def test_generated_dashboards_are_loaded_byte_for_byte() -> None:
    files = generated_files("dashboards")
    assert files, "no generated dashboards in the chart (run `plexichat-obs generate`)"
    rendered = objects(render())
    loaded = {}
    for config_map in find(rendered, "ConfigMap", "dashboards"):
        loaded.update({k: v for k, v in config_map["data"].items() if k.endswith(".json")})
    assert loaded == {path.name: path.read_text() for path in files}
    volumes = one(rendered, "Deployment", "grafana")["spec"]["template"]["spec"]["volumes"]
    dashboards = next(v for v in volumes if v["name"] == "dashboards")
    assert len(dashboards["projected"]["sources"]) == len(files)


def test_operator_mode_for_an_operator_older_than_scrape_native_histograms() -> None:
    values = scenario_values(CHART / "ci" / "operator-values.yaml")
    values["operator"]["scrapeNativeHistograms"] = False
    spec = one(objects(render(values)), "ServiceMonitor", "plexichat")["spec"]
    assert "scrapeNativeHistograms" not in spec  # a field its CRD lacks would be refused
    assert spec["scrapeClassicHistograms"] is True  # still kept where native ones are on


def test_operator_mode_creates_servicemonitor_rules_and_sidecar_dashboards() -> None:
    rendered = objects(render(scenario_values(CHART / "ci" / "operator-values.yaml")))
    for component in ("prometheus", "alertmanager", "grafana"):
        assert find(rendered, "Deployment", component) == []
    monitor = one(rendered, "ServiceMonitor", "plexichat")
    assert monitor["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    service = one(rendered, "Service", "plexichat")
    assert (
        monitor["spec"]["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
    )
    assert monitor["spec"]["endpoints"][0]["port"] == service["spec"]["ports"][0]["name"]
    relabelled = {
        r["targetLabel"]: r["replacement"] for r in monitor["spec"]["endpoints"][0]["relabelings"]
    }
    assert relabelled["job"] == "plexichat"  # the job the generated rules select
    # The bundled Prometheus' histogram settings (the generated job's), as the operator's fields.
    assert HELM.native_histograms is not None
    assert {
        "scrape_native_histograms": monitor["spec"]["scrapeNativeHistograms"],
        "always_scrape_classic_histograms": monitor["spec"]["scrapeClassicHistograms"],
    } == HELM.native_histograms.job
    exporter = one(rendered, "ServiceMonitor", "redis-exporter")
    (endpoint,) = exporter["spec"]["endpoints"]
    assert (
        endpoint["port"] == one(rendered, "Service", "redis-exporter")["spec"]["ports"][0]["name"]
    )
    assert {r["targetLabel"]: r["replacement"] for r in endpoint["relabelings"]} == {
        "job": REDIS_JOB  # the dependency alerts' job
    }
    rules = find(rendered, "PrometheusRule")
    assert len(rules) == len(generated_files("rules"))
    for rule, path in zip(rules, generated_files("rules"), strict=True):
        assert rule["metadata"]["labels"]["release"] == "kube-prometheus-stack"
        assert rule["spec"]["groups"] == yaml.safe_load(path.read_text())["groups"]
    dashboards = [
        c for c in find(rendered, "ConfigMap") if "grafana_dashboard" in c["metadata"]["labels"]
    ]
    assert len(dashboards) == len(generated_files("dashboards"))
    assert all(c["metadata"]["annotations"]["grafana_folder"] == "PlexiChat" for c in dashboards)


@requires_tool("promtool")
def test_prometheus_rule_specs_pass_promtool(tmp_path: Path) -> None:
    rendered = objects(render(scenario_values(CHART / "ci" / "operator-values.yaml")))
    rules = find(rendered, "PrometheusRule")
    assert rules
    for rule in rules:
        path = tmp_path / f"{rule['metadata']['name']}.yaml"
        path.write_text(yaml.safe_dump(rule["spec"]))
        code, output = promtool("check", "rules", str(path))
        assert code == 0, output


@requires_tool("promtool3")
@pytest.mark.parametrize(
    "scenario", [None, *(p for p in SCENARIOS if "operator" not in p.name)], ids=str
)
def test_prometheus_config_passes_promtool_with_the_rules(
    scenario: Path | None, tmp_path: Path
) -> None:
    rendered = objects(render(scenario_values(scenario)))
    config = prometheus_config_dir(rendered, tmp_path)
    parsed = yaml.safe_load(config.read_text())
    job = parsed["scrape_configs"][0]
    assert job["job_name"] == "plexichat"  # the job the generated rules select
    assert parsed["global"]["scrape_interval"] == "15s"
    assert_native_histograms_on_the_service_job_only(parsed)
    if "kubernetes_sd_configs" in job:
        _check_pod_discovery(job)
    # The image's Prometheus 3 configuration, Kubernetes discovery included, checked by the
    # newest promtool here (forky's; bookworm's 2.42 is built without that discovery).
    code, output = check_config(config)
    assert code == 0, output
    # The shared rule files, and the rule file of each optional source the scenario runs.
    values = scenario_values(scenario)
    expected = len(generated_files("rules")) + len(optional_sources(values))
    assert f"{expected} rule files found" in output


def _check_pod_discovery(job: dict[str, Any]) -> None:
    """The kubernetes_sd_configs block, field by field (Prometheus' kubernetes SD config)."""
    (discovery,) = job["kubernetes_sd_configs"]
    assert set(discovery) <= {"role", "namespaces", "selectors", "api_server", "attach_metadata"}
    assert discovery["role"] == "pod"
    assert discovery["namespaces"] == {"names": [NAMESPACE]}
    (selector,) = discovery["selectors"]
    assert selector["role"] == "pod"
    assert set(selector["label"].split(",")) == {
        f"app.kubernetes.io/instance={RELEASE}",
        "app.kubernetes.io/component=plexichat",
    }
    keep = [r for r in job["relabel_configs"] if r.get("action") == "keep"]
    assert {
        "source_labels": ["__meta_kubernetes_pod_container_port_name"],
        "regex": "http",
        "action": "keep",
    } in keep


def test_prometheus_keeps_the_guides_retention_and_discovers_pods_with_a_role() -> None:
    rendered = objects(render())
    args = one(rendered, "Deployment", "prometheus")["spec"]["template"]["spec"]["containers"][0][
        "args"
    ]
    retention = load_settings(environ={}).performance.metrics.retention_period
    assert f"--storage.tsdb.retention.time={retention}" in args
    role = one(rendered, "Role", "prometheus")
    assert role["rules"] == [
        {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list", "watch"]}
    ]
    assert find(rendered, "ClusterRole") == []
    static = objects(render({"prometheus": {"discovery": "static"}}))
    assert find(static, "Role") == []


def test_remote_write_is_passed_to_prometheus() -> None:
    rendered = objects(render(scenario_values(CHART / "ci" / "standalone-values.yaml")))
    config = yaml.safe_load(one(rendered, "ConfigMap", "prometheus")["data"]["prometheus.yml"])
    assert config["remote_write"] == [
        {"url": "http://mimir-distributor.mimir.svc:8080/api/v1/push", "name": "mimir"}
    ]


@requires_tool("amtool")
@pytest.mark.parametrize("webhook", ["", "http://hook.example:9000/alerts"])
def test_alertmanager_config_passes_amtool(webhook: str, tmp_path: Path) -> None:
    amtool = require_tool("amtool")
    rendered = objects(render({"alertmanager": {"webhookUrl": webhook}}))
    text = one(rendered, "ConfigMap", "alertmanager")["data"]["alertmanager.yml"]
    path = tmp_path / "alertmanager.yml"
    path.write_text(text)
    result = subprocess.run(
        [amtool, "check-config", str(path)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    config = yaml.safe_load(text)
    assert config["route"]["group_by"] == ["alertname", "service"]
    assert config["inhibit_rules"][0]["equal"] == ["alertname", "service"]
    if webhook:
        assert config["receivers"][0]["webhook_configs"][0]["url"] == webhook


def test_grafana_provisioning_is_well_formed() -> None:
    rendered = objects(render(scenario_values(CHART / "ci" / "standalone-values.yaml")))
    data = one(rendered, "ConfigMap", "grafana")["data"]
    sources = grafana.check_datasources(yaml.safe_load(data["datasources.yaml"]))
    assert {s["type"] for s in sources} == {"prometheus", "tempo"}
    paths = grafana.check_dashboard_providers(yaml.safe_load(data["dashboards.yaml"]))
    container = one(rendered, "Deployment", "grafana")["spec"]["template"]["spec"]["containers"][0]
    mounts = {m["mountPath"] for m in container["volumeMounts"]}
    assert set(paths) <= mounts
    env = {e["name"]: e for e in container["env"]}
    assert env["GF_AUTH_ANONYMOUS_ENABLED"]["value"] == "false"
    assert "secretKeyRef" in env["GF_SECURITY_ADMIN_PASSWORD"]["valueFrom"]


def test_tracing_sends_spans_to_tempo_only_when_enabled() -> None:
    default = one(objects(render()), "ConfigMap", "plexichat")["data"]
    assert "OTEL_EXPORTER_OTLP_ENDPOINT" not in default
    rendered = objects(render({"tempo": {"enabled": True}}))
    data = one(rendered, "ConfigMap", "plexichat")["data"]
    service = one(rendered, "Service", "tempo")
    assert data["OTEL_EXPORTER_OTLP_ENDPOINT"] == f"http://{service['metadata']['name']}:4318"


def test_network_policies_admit_only_the_expected_peers() -> None:
    rendered = objects(render({"networkPolicy": {"enabled": True}, "tempo": {"enabled": True}}))
    policies = {
        p["metadata"]["labels"]["app.kubernetes.io/component"]: p
        for p in find(rendered, "NetworkPolicy")
    }
    assert set(policies) == {
        "plexichat",
        "redis",
        "redis-exporter",
        "prometheus",
        "alertmanager",
        "grafana",
        "tempo",
    }

    def sources(component: str) -> list[str | None]:
        return [
            (peer["podSelector"]["matchLabels"]["app.kubernetes.io/component"])
            for rule in policies[component]["spec"]["ingress"]
            for peer in rule.get("from", [])
        ]

    assert sources("redis") == ["plexichat", "redis-exporter"]
    assert sources("redis-exporter") == ["prometheus"]  # job redis
    # Without the release's Prometheus (operator mode) whoever scrapes it lives elsewhere.
    values = scenario_values(CHART / "ci" / "operator-values.yaml") | {
        "networkPolicy": {"enabled": True}
    }
    rendered = objects(render(values))
    exporter = one(rendered, "NetworkPolicy", "redis-exporter")
    assert [rule.get("from") for rule in exporter["spec"]["ingress"]] == [None]
    assert sources("alertmanager") == ["prometheus"]
    assert sorted(map(str, sources("prometheus"))) == ["grafana", "test"]
    assert sources("plexichat") == []  # the API is open on its port


def test_helm_test_pod_checks_health_and_every_rule_group() -> None:
    rendered = render()
    pod = next(
        obj
        for obj in objects(rendered)
        if obj["kind"] == "Pod" and obj["metadata"]["annotations"]["helm.sh/hook"] == "test"
    )
    container = pod["spec"]["containers"][0]
    assert container["args"][0] == (CHART / "files" / "helm-test.py").read_text()
    env = {e["name"]: e["value"] for e in container["env"]}
    expected = [
        group["name"]
        for path in generated_files("rules")
        for group in yaml.safe_load(path.read_text())["groups"]
    ]
    assert env["EXPECTED_RULE_GROUPS"].split(",") == expected
    assert env["SERVICE_URL"].endswith("-plexichat:8000")


def test_notes_tell_how_to_reach_grafana_and_get_its_password() -> None:
    notes = next(t for p, t in render().items() if p.endswith("NOTES.txt"))
    assert f"-n {NAMESPACE} port-forward svc/{RELEASE}-plexichat-observability-grafana" in notes
    assert "jsonpath='{.data.grafana-admin-password}' | base64 -d" in notes


def test_install_dry_run_with_the_helm_engine() -> None:
    config = helm_python.Config(storage_driver="memory")
    release = config.install(CHART, RELEASE, {}, namespace=NAMESPACE, dry_run="client")
    manifest = (
        release["manifest"] if isinstance(release, dict) else json.loads(str(release))["manifest"]
    )
    assert "kind: Deployment" in manifest


def _redis_script(values: dict[str, Any]) -> str:
    container = one(objects(render(values)), "Deployment", "redis")["spec"]["template"]["spec"][
        "containers"
    ][0]
    assert container["command"] == ["/bin/sh", "-c"]
    script: str = container["args"][0]
    return script


@pytest.mark.parametrize(
    ("redis", "maxmemory"),
    [
        ({}, str(int(256 * 1024**2 * 0.8))),  # 80 % of the default 256Mi limit
        ({"resources": {"limits": {"memory": "1Gi"}}}, str(int(1024**3 * 0.8))),
        ({"resources": {"limits": {"memory": "500M"}}}, str(int(500e6 * 0.8))),
        ({"maxmemory": "100mb"}, "100mb"),  # an explicit value wins
    ],
)
def test_redis_evicts_before_its_memory_limit(redis: dict[str, Any], maxmemory: str) -> None:
    script = _redis_script({"redis": redis})
    assert f"--maxmemory {maxmemory} --maxmemory-policy allkeys-lru" in script


def test_redis_without_a_memory_limit_or_maxmemory_is_refused() -> None:
    with pytest.raises(helm_python.HelmError) as error:
        render({"redis": {"resources": {"limits": {"memory": None}}}})
    assert "redis.maxmemory or redis.resources.limits.memory must be set" in str(error.value)


def test_redis_password_is_never_on_its_command_line() -> None:
    script = _redis_script({})
    assert "requirepass" not in script
    assert "$(REDIS_PASSWORD)" not in script  # Kubernetes would expand it into the argv
    assert "exec redis-server - " in script  # the ACL line arrives on stdin


@pytest.mark.parametrize(
    ("prometheus", "flag", "empty_dir"),
    [
        ({}, "6963MB", None),  # 85 % of the default 8Gi claim
        ({"persistence": {"size": "20Gi"}}, "17408MB", None),
        ({"persistence": {"enabled": False, "size": "2Gi"}}, "1740MB", "2Gi"),
        ({"retentionSize": "5GB"}, "5GB", None),
    ],
)
def test_prometheus_caps_its_disk_use_below_the_volume(
    prometheus: dict[str, Any], flag: str, empty_dir: str | None
) -> None:
    spec = one(objects(render({"prometheus": prometheus})), "Deployment", "prometheus")["spec"][
        "template"
    ]["spec"]
    assert f"--storage.tsdb.retention.size={flag}" in spec["containers"][0]["args"]
    data = next(v for v in spec["volumes"] if v["name"] == "data")
    if empty_dir is not None:
        assert data["emptyDir"] == {"sizeLimit": empty_dir}


def test_grafana_does_not_update_bundled_plugins_at_start() -> None:
    container = one(objects(render()), "Deployment", "grafana")["spec"]["template"]["spec"][
        "containers"
    ][0]
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["GF_PLUGINS_PREINSTALL_DISABLED"] == "true"


def test_global_values_are_accepted() -> None:
    assert objects(render({"global": {"imageRegistry": "registry.example", "x": {"y": 1}}}))


def test_the_chart_renders_as_a_subchart(tmp_path: Path) -> None:
    parent = tmp_path / "parent"
    (parent / "charts").mkdir(parents=True)
    (parent / "Chart.yaml").write_text(
        "apiVersion: v2\nname: parent\nversion: 1.0.0\ndependencies:\n"
        "  - name: plexichat-observability\n    version: 0.1.0\n"
    )
    (parent / "values.yaml").write_text(
        "global:\n  storageClass: fast\nplexichat-observability:\n  tempo:\n    enabled: true\n"
    )
    shutil.copytree(CHART, parent / "charts" / "plexichat-observability")
    rendered = helm_python.Chart.load(parent).render(
        {}, name=RELEASE, namespace=NAMESPACE, is_install=True
    )
    kinds = [obj["kind"] for obj in objects(rendered)]
    assert "Deployment" in kinds
    assert any("tempo" in path for path in rendered)


def test_workers_share_their_metrics_through_an_in_memory_volume() -> None:
    rendered = objects(render())
    data = one(rendered, "ConfigMap", "plexichat")["data"]
    assert int(data["PLEXICHAT_SERVICE__WORKERS"]) > 1
    assert data["PLEXICHAT_PERFORMANCE__CACHING__REDIS_CACHE__ENABLED"] == "true"
    directory = data["PLEXICHAT_PERFORMANCE__OBSERVABILITY__MULTIPROCESS_DIR"]
    pod = one(rendered, "Deployment", "plexichat")["spec"]["template"]["spec"]
    (mount,) = [m for m in pod["containers"][0]["volumeMounts"] if m["mountPath"] == directory]
    (volume,) = [v for v in pod["volumes"] if v["name"] == mount["name"]]
    assert volume["emptyDir"] == {"medium": "Memory", "sizeLimit": "64Mi"}
    single = objects(render({"plexichat": {"workers": 1}}))
    assert (
        "PLEXICHAT_PERFORMANCE__OBSERVABILITY__MULTIPROCESS_DIR"
        not in (one(single, "ConfigMap", "plexichat")["data"])
    )


def test_workers_without_redis_are_refused() -> None:
    with pytest.raises(helm_python.HelmError) as error:
        render({"redis": {"enabled": False}})
    assert "plexichat.workers above 1 needs Redis" in str(error.value)
    render({"redis": {"enabled": False}, "plexichat": {"workers": 1}})


def test_prometheus_stores_exemplars_and_grafana_links_them_to_tempo() -> None:
    rendered = objects(render({"tempo": {"enabled": True}}))
    container = one(rendered, "Deployment", "prometheus")["spec"]["template"]["spec"]["containers"][
        0
    ]
    assert "--enable-feature=exemplar-storage" in container["args"]
    sources = yaml.safe_load(one(rendered, "ConfigMap", "grafana")["data"]["datasources.yaml"])
    by_uid = {s["uid"]: s for s in sources["datasources"]}
    (link,) = by_uid["prometheus"]["jsonData"]["exemplarTraceIdDestinations"]
    assert link == {"name": "trace_id", "datasourceUid": "tempo"}
    assert by_uid[link["datasourceUid"]]["type"] == "tempo"
