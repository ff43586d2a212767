"""The watched catalog (``catalog/watched.yaml``): it loads, its alerts are the rules the
generators write (per profile, optional sources only where the target runs them), and every
broken file is refused with an error naming file, source or entry, and field."""

import copy
import dataclasses
from pathlib import Path
from typing import Any

import pytest
import yaml

from plexichat.catalog import CatalogError, default_watched, load_watched
from plexichat.catalog.watched_loader import default_watched_path
from plexichat.generate import Options, dependencies, optional, readme, watchers
from plexichat.generate.writer import rule_texts


def _document() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(default_watched_path().read_text(encoding="utf-8"))
    return document


def _write(tmp_path: Path, document: dict[str, Any]) -> Path:
    path = tmp_path / "watched.yaml"
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    return path


def _entry(document: dict[str, Any], entry_id: str) -> dict[str, Any]:
    return next(e for e in document["entries"] if e["id"] == entry_id)


def _names(groups: list[dict[str, Any]]) -> list[str]:
    return [rule["alert"] for group in groups for rule in group["rules"]]


def test_the_packaged_file_names_the_issue_s_alerts_once_each() -> None:
    watched = default_watched()
    names = [e.alert.name for e in watched.entries if e.alert is not None]
    assert len(names) == len(set(names))
    assert {
        "RedisDown",
        "RedisMemoryHigh",
        "RedisRejectedConnections",
        "RedisClientsNearMax",
        "PostgresDown",
        "PostgresConnectionsHigh",
        "PostgresDeadlocks",
        "StackTargetDown",
        "PrometheusRuleEvaluationFailures",
        "PrometheusConfigReloadFailed",
        "AlertmanagerConfigReloadFailed",
        "PrometheusNotificationErrors",
        "PrometheusNotConnectedToAlertmanagers",
        "AlertmanagerNotificationsFailing",
    } <= set(names)
    assert watched.heartbeat.name == watchers.WATCHDOG


def test_an_optional_source_gets_rules_of_its_own_only_where_the_target_runs_it() -> None:
    shipped = Options()
    with_postgres = shipped.with_sources(frozenset({"postgres"}))
    for options in (shipped, with_postgres):  # the shared file never has them
        assert "PostgresDown" not in _names(dependencies.groups(options))
        assert "RedisDown" in _names(dependencies.groups(options))
    assert "postgres.yaml" not in rule_texts(shipped)
    own = yaml.safe_load(rule_texts(with_postgres)["postgres.yaml"])["groups"]
    assert set(_names(own)) == {"PostgresDown", "PostgresConnectionsHigh", "PostgresDeadlocks"}
    with pytest.raises(ValueError, match="not an optional source"):
        optional.groups(shipped, "postgres")
    with pytest.raises(ValueError, match="'redis' is not optional"):
        shipped.with_sources(frozenset({"redis"}))


def test_a_profile_moves_a_threshold_and_switches_an_alert_off(tmp_path: Path) -> None:
    document = _document()
    _entry(document, "redis_memory_ratio")["profiles"] = {
        "development": {"alert": {"value": 0.5, "for": "1m"}},
        "production": {"alert": None},
    }
    watched = load_watched(_write(tmp_path, document))

    def rules(profile: str | None) -> dict[str, dict[str, Any]]:
        options = dataclasses.replace(Options(), profile=profile, watched=watched)
        groups = dependencies.groups(options)
        return {rule["alert"]: rule for group in groups for rule in group["rules"]}

    assert rules(None)["RedisMemoryHigh"]["expr"].endswith(") > 0.9")
    development = rules("development")["RedisMemoryHigh"]
    assert development["expr"].endswith(") > 0.5")
    assert development["for"] == "1m"
    assert "RedisMemoryHigh" not in rules("production")
    assert "RedisDown" in rules("production")
    table = readme.watched_table(
        dataclasses.replace(Options(), profile="development", watched=watched)
    )
    assert "| RedisMemoryHigh | Redis memory used of maxmemory > 50 % (1m) | warning |" in table
    off = readme.watched_table(
        dataclasses.replace(Options(), profile="production", watched=watched)
    )
    assert "RedisMemoryHigh" not in off
    assert "| RedisDown | Redis up < 1 (1m) | critical |" in off


def test_windows_and_holds_follow_the_time_scale() -> None:
    scaled = Options().scaled(0.01, min_window_s=4)
    (failures,) = (
        r for r in watchers.alerts(scaled) if r["alert"] == "PrometheusRuleEvaluationFailures"
    )
    assert "[4s]" in failures["expr"]
    assert failures["for"] == "6s"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda d: _entry(d, "redis_up").update(source="memcached"),
            "watched.yaml: entry 'redis_up': field 'source': 'memcached' names no job",
        ),
        (
            lambda d: _entry(d, "redis_up").update(jobs=["redis", "nosuch"]),
            "entry 'redis_up': field 'jobs.1': 'nosuch' names no job",
        ),
        (
            lambda d: _entry(d, "redis_up").update(promql='redis_up{job="redis"}'),
            "entry 'redis_up': field 'promql': the query must contain the {selector}",
        ),
        (
            lambda d: _entry(d, "redis_evictions").pop("window"),
            "entry 'redis_evictions': field 'promql': the query contains {window} but",
        ),
        (
            lambda d: _entry(d, "redis_clients").update(promql="sum(nothing_known{ {selector} })"),
            "entry 'redis_clients': field 'promql': the query reads none of the source's",
        ),
        (
            lambda d: _entry(d, "redis_commands").pop("panel"),
            "entry 'redis_commands': neither a panel nor an alert",
        ),
        (
            lambda d: _entry(d, "redis_memory_ratio")["alert"].update(name="RedisDown"),
            "entry 'redis_memory_ratio': field 'alert.name': 'RedisDown' twice",
        ),
        (
            lambda d: _entry(d, "redis_memory_ratio")["alert"].update(severity="page"),
            "entry 'redis_memory_ratio': field 'alert.severity': 'page' is not one of",
        ),
        (
            lambda d: _entry(d, "redis_commands").update(
                profiles={"development": {"alert": {"value": 1}}}
            ),
            "entry 'redis_commands': field 'profiles': development: overrides an alert the "
            "entry does not have",
        ),
        (
            lambda d: d["sources"][0]["series"].append("redis_never_read"),
            "source 'redis': field 'series': ['redis_never_read'] are read by no entry",
        ),
        (
            lambda d: d["sources"].append(copy.deepcopy(d["sources"][0])),
            "source 'redis': field 'job': defined twice",
        ),
        (lambda d: d.update(version=2), "field 'version': 2 is not 1"),
        (lambda d: d.update(panels=[]), "unknown top-level field(s) ['panels']"),
        (lambda d: d.pop("heartbeat"), "missing top-level field(s) ['heartbeat']"),
    ],
)
def test_a_broken_file_is_refused_naming_where(tmp_path: Path, change: Any, message: str) -> None:
    document = _document()
    change(document)
    with pytest.raises(CatalogError) as raised:
        load_watched(_write(tmp_path, document))
    assert message in str(raised.value)
