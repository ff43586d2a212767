"""node_exporter in the bundles: off by default in both; Compose's docker-compose.node.yml and the
chart's ``nodeExporter.enabled`` run it with the same command line (the node's root read-only at
/host, the collectors of ``plexichat.generate.node``) and Prometheus scrapes it as job ``node``.

The last test runs the real exporter (Debian's 1.5; the bundles pin upstream's 1.9 image, which
cannot run here: no container engine) with each bundle's arguments, the host's root standing
for /host, and finds exactly those collectors on its /metrics.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import httpx
import kubernetes_validate
import pytest
import yaml

from plexichat.generate.node import COLLECTORS, NODE_EXPORTER_PORT, NODE_JOB, collector_flags
from tests.deploy.chart import (
    NAMESPACE,
    RELEASE,
    find,
    objects,
    one,
    pod_specs,
    prometheus_config_dir,
    render,
)
from tests.deploy.compose import document
from tests.support.newer_keys import check_config
from tests.support.processes import stop
from tests.support.stack import wait_for
from tests.support.tools import free_port, require_tool, requires_tool

ENABLED = {"nodeExporter": {"enabled": True}}
ROOTFS = "--path.rootfs=/host"


def _daemonset_pod(values: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = one(objects(render(values)), "DaemonSet", "node-exporter")["spec"][
        "template"
    ]["spec"]
    return spec


def _scrape_jobs(rendered: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    config = yaml.safe_load(one(rendered, "ConfigMap", "prometheus")["data"]["prometheus.yml"])
    return {job["job_name"]: job for job in config["scrape_configs"]}


def test_neither_bundle_runs_node_exporter_by_default() -> None:
    rendered = objects(render())
    assert [o for o in rendered if "node-exporter" in o["metadata"]["name"]] == []
    assert NODE_JOB not in _scrape_jobs(rendered)
    assert "node-exporter" not in document()["services"]
    volumes = document()["services"]["prometheus"]["volumes"]
    assert "./prometheus/prometheus.yml:/etc/prometheus/prometheus.yml:ro" in volumes


def test_both_bundles_run_it_with_one_command_line_on_the_hosts_root_read_only() -> None:
    (container,) = _daemonset_pod(ENABLED)["containers"]
    service = document(node=True)["services"]["node-exporter"]
    assert container["args"] == service["command"] == [ROOTFS, *collector_flags()]
    assert {m["mountPath"]: m for m in container["volumeMounts"]}["/host"]["readOnly"] is True
    (volume,) = _daemonset_pod(ENABLED)["volumes"]
    assert volume["hostPath"] == {"path": "/"}
    assert service["volumes"] == ["/:/host:ro,rslave"]
    assert service["pid"] == "host"
    (port,) = container["ports"]
    assert port["containerPort"] == NODE_EXPORTER_PORT
    assert str(NODE_EXPORTER_PORT) in service["healthcheck"]["test"][-1]


def test_the_daemonset_passes_the_kubernetes_schema_and_is_hardened_but_for_the_host() -> None:
    rendered = objects(render(ENABLED))
    for version in ("1.30.0", kubernetes_validate.latest_version()):
        for obj in rendered:
            kubernetes_validate.validate(obj, version, strict=True)
    (where, spec), *_ = [(w, s) for w, s in pod_specs(rendered) if "node-exporter" in w]
    # What node_exporter is for needs the host: its root (hostPath) and PID namespace. The
    # rest holds as for every other pod (tests/deploy/test_chart.py).
    assert spec["hostPID"] is True, where
    assert not spec.get("hostNetwork"), where
    assert spec["securityContext"]["runAsNonRoot"] is True
    assert spec["securityContext"]["runAsUser"] == 65534
    (container,) = spec["containers"]
    context = container["securityContext"]
    assert context["readOnlyRootFilesystem"] is True
    assert context["capabilities"] == {"drop": ["ALL"]}
    assert context["allowPrivilegeEscalation"] is False
    assert container["image"] == "quay.io/prometheus/node-exporter:v1.9.1"


def test_prometheus_discovers_the_daemonsets_pods_as_job_node(tmp_path: Path) -> None:
    rendered = objects(render(ENABLED | {"prometheus": {"discovery": "static"}}))
    job = _scrape_jobs(rendered)[NODE_JOB]
    (discovery,) = job["kubernetes_sd_configs"]
    assert discovery["role"] == "pod"
    assert discovery["namespaces"] == {"names": [NAMESPACE]}
    (selector,) = discovery["selectors"]
    pod_labels = one(rendered, "DaemonSet", "node-exporter")["spec"]["template"]["metadata"][
        "labels"
    ]
    wanted = dict(pair.split("=") for pair in selector["label"].split(","))
    assert wanted == {
        "app.kubernetes.io/instance": RELEASE,
        "app.kubernetes.io/component": "node-exporter",
    }
    assert wanted.items() <= pod_labels.items()
    assert {"source_labels": ["__meta_kubernetes_pod_node_name"], "target_label": "instance"} in (
        job["relabel_configs"]
    )
    # Pod discovery needs the Role and the token, even where the service is found statically.
    assert one(rendered, "Role", "prometheus")["rules"][0]["resources"] == ["pods"]
    spec = one(rendered, "Deployment", "prometheus")["spec"]["template"]["spec"]
    assert spec["automountServiceAccountToken"] is True
    assert find(objects(render({"prometheus": {"discovery": "static"}})), "Role") == []


@requires_tool("promtool3")
def test_the_charts_prometheus_config_with_job_node_passes_promtool(tmp_path: Path) -> None:
    config = prometheus_config_dir(objects(render(ENABLED)), tmp_path)
    code, output = check_config(config)  # the newest promtool: Kubernetes discovery included
    assert code == 0, output


@requires_tool("prometheus-node-exporter")
@pytest.mark.parametrize("bundle", ["helm", "compose"])
def test_the_real_exporter_takes_each_bundles_arguments_and_runs_only_those_collectors(
    bundle: str, tmp_path: Path
) -> None:
    binary = require_tool("prometheus-node-exporter")
    if bundle == "helm":
        (container,) = _daemonset_pod(ENABLED)["containers"]
        args = container["args"]
    else:
        args = document(node=True)["services"]["node-exporter"]["command"]
    here = ["--path.rootfs=/" if arg == ROOTFS else arg for arg in args]  # / is mounted at /host
    port = free_port()
    log = tmp_path / "node_exporter.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [binary, *here, f"--web.listen-address=127.0.0.1:{port}"],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:

        def metrics() -> str | None:
            try:
                return httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
            except httpx.HTTPError:
                return None

        text = wait_for(metrics, 30, "node_exporter serving /metrics")
        ran = {
            line.split('collector="')[1].split('"')[0]: line.rsplit(" ", 1)[1]
            for line in text.splitlines()
            if line.startswith("node_scrape_collector_success{")
        }
        assert ran == dict.fromkeys(COLLECTORS, "1"), log.read_text()
        assert 'node_filesystem_avail_bytes{device="' in text
        assert 'mountpoint="/"' in text
    finally:
        stop(process)
