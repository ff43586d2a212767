"""Checks of Grafana provisioning files against what Grafana 11 and later read.

Grafana ignores keys it does not know, so a misspelt key silently does nothing: these checks
hold every key to the documented provisioning format (apiVersion 1).
"""

from __future__ import annotations

from typing import Any

DATASOURCE_KEYS = {
    "name", "type", "uid", "access", "orgId", "url", "user", "database", "basicAuth",
    "basicAuthUser", "withCredentials", "isDefault", "jsonData", "secureJsonData", "version",
    "editable",
}  # fmt: skip
DATASOURCE_TYPES = {"prometheus", "tempo", "jaeger", "loki", "alertmanager"}
PROVIDER_KEYS = {
    "name", "orgId", "folder", "folderUid", "type", "disableDeletion", "allowUiUpdates",
    "updateIntervalSeconds", "options",
}  # fmt: skip
PROVIDER_OPTION_KEYS = {"path", "foldersFromFilesStructure"}


def check_datasources(document: dict[str, Any]) -> list[dict[str, Any]]:
    assert document.get("apiVersion") == 1
    assert set(document) <= {"apiVersion", "datasources", "deleteDatasources", "prune"}
    datasources: list[dict[str, Any]] = document["datasources"]
    assert datasources, "no data source"
    for source in datasources:
        unknown = set(source) - DATASOURCE_KEYS
        assert not unknown, f"data source {source.get('name')}: unknown keys {sorted(unknown)}"
        assert source["type"] in DATASOURCE_TYPES
        assert source["access"] == "proxy"
        assert source["url"].startswith("http")
        assert 0 < len(source["uid"]) <= 40
    assert [s["isDefault"] for s in datasources if s.get("isDefault")] == [True]
    assert len({s["uid"] for s in datasources}) == len(datasources)
    prometheus = [s for s in datasources if s["type"] == "prometheus"]
    assert prometheus, "no Prometheus data source"
    return datasources


def check_dashboard_providers(document: dict[str, Any]) -> list[str]:
    """The paths the file providers read dashboards from."""
    assert document.get("apiVersion") == 1
    assert set(document) == {"apiVersion", "providers"}
    paths = []
    for provider in document["providers"]:
        unknown = set(provider) - PROVIDER_KEYS
        assert not unknown, f"provider {provider.get('name')}: unknown keys {sorted(unknown)}"
        assert provider["type"] == "file"
        assert set(provider["options"]) <= PROVIDER_OPTION_KEYS
        assert provider["options"]["path"].startswith("/")
        assert isinstance(provider["updateIntervalSeconds"], int)
        paths.append(provider["options"]["path"])
    assert paths, "no dashboard provider"
    return paths
