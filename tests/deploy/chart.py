"""Rendering the Helm chart with the real Helm engine (helm-python-sdk), and reading the result."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import helm_python
import yaml

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "helm" / "plexichat-observability"
SCENARIOS = sorted((CHART / "ci").glob("*-values.yaml"))
RELEASE = "obs"
NAMESPACE = "observability"


@functools.cache
def chart() -> helm_python.Chart:
    return helm_python.Chart.load(CHART)


def scenario_values(path: Path | None) -> dict[str, Any]:
    """The values of a ci/*-values.yaml scenario; ``None`` is the chart's defaults."""
    if path is None:
        return {}
    values: dict[str, Any] = yaml.safe_load(path.read_text()) or {}
    return values


def render(values: dict[str, Any] | None = None) -> dict[str, str]:
    """Template path -> rendered text, as ``helm install`` would render it (schema applied)."""
    return chart().render(values or {}, name=RELEASE, namespace=NAMESPACE, is_install=True)


def objects(rendered: dict[str, str]) -> list[dict[str, Any]]:
    """Every Kubernetes object of a rendering (NOTES.txt left out), in template order."""
    result = []
    for template, text in sorted(rendered.items()):
        if template.endswith("NOTES.txt"):
            continue
        for document in yaml.safe_load_all(text):
            if document:
                result.append(document)
    return result


def find(
    objs: list[dict[str, Any]], kind: str, component: str | None = None
) -> list[dict[str, Any]]:
    """Objects of ``kind`` (and of ``app.kubernetes.io/component`` ``component``, if given)."""
    return [
        obj
        for obj in objs
        if obj["kind"] == kind
        and (
            component is None
            or obj["metadata"]["labels"].get("app.kubernetes.io/component") == component
        )
    ]


def one(objs: list[dict[str, Any]], kind: str, component: str) -> dict[str, Any]:
    matches = find(objs, kind, component)
    assert len(matches) == 1, f"expected one {kind} of {component}, found {len(matches)}"
    return matches[0]


def pod_specs(objs: list[dict[str, Any]]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(``Kind/name``, pod spec) of every object that runs pods."""
    for obj in objs:
        where = f"{obj['kind']}/{obj['metadata']['name']}"
        if obj["kind"] == "Pod":
            yield where, obj["spec"]
        elif obj["kind"] in ("Deployment", "StatefulSet", "DaemonSet", "Job"):
            yield where, obj["spec"]["template"]["spec"]


def generated_files(kind: str) -> list[Path]:
    """The generated copies in the chart: ``rules`` (*.yaml) or ``dashboards`` (*.json)."""
    pattern = "*.yaml" if kind == "rules" else "*.json"
    return sorted((CHART / "files" / kind).glob(pattern))


def optional_sources(values: dict[str, Any]) -> set[str]:
    """The optional watched sources a release with ``values`` runs (files/optional/<job>/):
    PostgreSQL where the service's database URL comes from a Secret and the exporter is on, the
    host's node_exporter where nodeExporter is enabled."""
    service = values.get("plexichat", {}).get("database", {}).get("urlSecret", {})
    exporter = values.get("postgresExporter", {}).get("enabled", True)
    node = values.get("nodeExporter", {}).get("enabled", False)
    return ({"postgres"} if service.get("name") and exporter else set()) | (
        {"node"} if node else set()
    )


def prometheus_config_dir(rendered: list[dict[str, Any]], directory: Path) -> Path:
    """Lay out /etc/prometheus as the Deployment's projected volume does; return the config."""
    deployment = one(rendered, "Deployment", "prometheus")
    sources = deployment["spec"]["template"]["spec"]["volumes"][0]["projected"]["sources"]
    config_maps = {c["metadata"]["name"]: c for c in find(rendered, "ConfigMap")}
    for source in sources:
        data = config_maps[source["configMap"]["name"]]["data"]
        items = source["configMap"].get("items") or [{"key": k, "path": k} for k in data]
        for item in items:
            target = directory / item["path"]
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(data[item["key"]])
    mount = deployment["spec"]["template"]["spec"]["containers"][0]["volumeMounts"][0]
    assert mount["mountPath"] == "/etc/prometheus"
    return directory / "prometheus.yml"
