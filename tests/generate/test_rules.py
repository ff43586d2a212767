"""Generated rule files: promtool accepts them, every alert has hand-written promtool tests that
pass, windows suit a 15 s scrape, every recorded series is read, profiles change thresholds."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from plexichat.generate import Options, render
from plexichat.generate.dashboards import DASHBOARDS
from plexichat.generate.promql import seconds
from plexichat.generate.watchers import WATCHDOG
from tests.generate import support
from tests.support.tools import promtool, requires_tool

BUNDLE_SCRAPE_SECONDS = 15


@requires_tool("promtool")
@pytest.mark.parametrize("path", support.RULE_FILES, ids=support.loaded_name)
def test_promtool_accepts_every_rule_file(path: Path) -> None:
    code, output = promtool("check", "rules", str(path))
    assert code == 0, output


@requires_tool("promtool")
@pytest.mark.parametrize("path", support.UNIT_TESTS, ids=lambda p: p.name)
def test_promtool_unit_tests_pass(path: Path) -> None:
    code, output = promtool("test", "rules", str(path), cwd=path.parent)
    assert code == 0, output


def _cases() -> tuple[set[str], set[str], set[tuple[str, str]]]:
    """(alerts with a firing case, alerts with a silent case, (alert, long_window) firing)."""
    firing: set[str] = set()
    silent: set[str] = set()
    windows: set[tuple[str, str]] = set()
    for path in support.UNIT_TESTS:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
        for test in document["tests"]:
            for case in test.get("alert_rule_test", []):
                expected = case.get("exp_alerts") or []
                (firing if expected else silent).add(case["alertname"])
                for alert in expected:
                    window = alert["exp_labels"].get("long_window")
                    if window is not None:
                        windows.add((case["alertname"], window))
    return firing, silent, windows


def test_every_alert_has_a_firing_and_a_silent_promtool_case() -> None:
    firing, silent, windows = _cases()
    names = {rule["alert"] for rule in support.alerts()}
    assert names - firing == set(), "alerts never shown to fire"
    assert names - silent == {WATCHDOG}, "alerts never shown to stay silent"
    assert WATCHDOG not in silent  # it fires always, by design
    burn = {
        (rule["alert"], rule["labels"]["long_window"])
        for rule in support.alerts()
        if "long_window" in rule["labels"]
    }
    assert len(burn) == 8
    assert burn - windows == set(), "burn-rate windows never shown to fire"


def test_range_windows_are_at_least_four_scrape_intervals() -> None:
    for rule in support.all_rules():
        for window in re.findall(r"\[(\w+)\]", rule["expr"]):
            assert seconds(window) >= 4 * BUNDLE_SCRAPE_SECONDS, (rule, window)


def test_every_recorded_series_is_read_by_a_dashboard_or_an_alert() -> None:
    read: set[str] = set()
    for rule in support.all_rules():
        read |= support.series_names(rule["expr"])
    for path in support.DASHBOARD_FILES:
        for _, expr in support.dashboard_queries(support.dashboard(path)):
            read |= support.series_names(expr)
    assert support.records() - read == set()


def test_alerts_carry_severity_summary_and_runbook_anchor() -> None:
    runbooks = (support.ROOT / "docs" / "runbooks.md").read_text(encoding="utf-8")
    for rule in support.alerts():
        if rule["alert"] == WATCHDOG:  # always fires: nothing to act on, only its absence
            assert rule["labels"]["severity"] == "none"
        else:
            assert rule["labels"]["severity"] in ("warning", "critical")
        if "metric" in rule["labels"] or "slo" in rule["labels"]:
            assert "{{ $value" in rule["annotations"]["summary"]
        anchor = rule["annotations"]["runbook_url"].split("#")[1]
        assert f"\n## {rule['alert']}\n" in runbooks
        assert anchor == rule["alert"].lower()


def _alerts_of(profile: str | None) -> dict[str, dict[str, object]]:
    files = render(Options.for_profile(profile), Path("/nonexistent"))
    groups = yaml.safe_load(files["alerts/alerts.yaml"])["groups"]
    return {r["alert"]: r for g in groups for r in g["rules"]}


def test_profiles_change_thresholds_and_switch_alerts_off() -> None:
    guide, dev, prod = _alerts_of(None), _alerts_of("development"), _alerts_of("production")
    assert str(guide["PlexichatResponseTimeHigh"]["expr"]).endswith(") > 0.5")
    assert str(dev["PlexichatResponseTimeHigh"]["expr"]).endswith(") > 2")
    assert str(prod["PlexichatResponseTimeHigh"]["expr"]).endswith(") > 0.5")
    assert "PlexichatThroughputLow" in guide
    assert "PlexichatThroughputLow" not in dev
    assert "PlexichatThroughputLow" in prod


def test_slo_latency_threshold_is_a_bucket_boundary_and_the_window_is_configurable() -> None:
    files = render(Options(slo_window="28d"), Path("/nonexistent"))
    text = files["alerts/slo.yaml"]
    assert 'le=~"0[.]5"' in text
    assert "ratio_rate28d" in text
    assert "(13.44 * 0.001)" in text  # 2 % of a 28-day budget in 1h
    assert len(DASHBOARDS) == 9


def test_the_watchdog_always_fires_and_every_watcher_selects_a_scraped_job() -> None:
    files = render(Options.for_profile(None), Path("/nonexistent"))
    (group,) = yaml.safe_load(files["alerts/stack.yaml"])["groups"]
    rules = {rule["alert"]: rule for rule in group["rules"]}
    assert rules[WATCHDOG]["expr"] == "vector(1)"
    assert rules[WATCHDOG]["labels"] == {
        "severity": "none",
        "job": "prometheus",
        "service": "prometheus",
    }
    jobs = set(re.findall(r'job=~?"([^"]+)"', "\n".join(r["expr"] for r in rules.values())))
    assert jobs == {"prometheus", "alertmanager", "prometheus|alertmanager"}
    # Time-scaled like every other rule (plexichat-obs up --time-scale).
    scaled = render(Options.for_profile(None).scaled(0.01, 4.0), Path("/nonexistent"))
    (fast,) = yaml.safe_load(scaled["alerts/stack.yaml"])["groups"]
    failing = {r["alert"]: r for r in fast["rules"]}["PrometheusRuleEvaluationFailures"]
    assert failing["for"] == "6s"
    assert "[4s]" in failing["expr"]
