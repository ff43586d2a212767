"""``status``'s judgement of one catalog entry, and its rendering; the live half (values from a
real Prometheus, exit codes while alerts fire) is in tests/e2e/test_up_stack.py, the histogram
a quantile was taken of on a native-storing and a classic-storing Prometheus in
tests/e2e/test_status_histograms.py."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from plexichat.exit_code import ExitCode
from plexichat.generate import Options
from plexichat.generate.watchers import WATCHDOG
from plexichat.stack.prometheus_api import Sample
from plexichat.stack.status import (
    AlertStatus,
    BudgetStatus,
    MetricStatus,
    Status,
    collect,
    metric_status,
)
from plexichat.stack.status_command import exit_status
from plexichat.stack.status_view import as_json, render
from tests.support.tools import free_port

OPTIONS = Options.for_profile("development")


def _status(entry_id: str, values: list[float], alerts: set[str] | None = None) -> str:
    samples = [Sample({"instance": f"i{n}"}, v) for n, v in enumerate(values)]
    return metric_status(OPTIONS.catalog[entry_id], OPTIONS, samples, alerts or set()).state


def test_states_follow_the_profiles_thresholds_and_the_alerts() -> None:
    # development: response time target 200 ms, alert 2 s
    assert _status("response_time", [0.15]) == "meets target"
    assert _status("response_time", [0.3]) == "misses target"
    assert _status("response_time", []) == "no data"
    assert _status("response_time", [0.3], {"pending"}) == "pending"
    assert _status("response_time", [0.3], {"pending", "firing"}) == "firing"
    # higher is better: the worst instance is the lowest
    assert _status("cache_hit_ratio", [0.95, 0.85]) == "misses target"


def test_the_worst_instance_counts_and_units_are_the_display_units() -> None:
    entry = OPTIONS.catalog["cpu_usage"]
    samples = [Sample({"instance": "a"}, 0.2), Sample({"instance": "b"}, 0.75)]
    status = metric_status(entry, OPTIONS, samples, set())
    assert (status.value, status.display, status.instances) == (0.75, "75 %", 2)
    assert status.target == "< 70 %"
    assert status.alert == "> 85 % for 10m"


def test_an_alert_switched_off_in_the_profile_says_so() -> None:
    status = metric_status(OPTIONS.catalog["throughput"], OPTIONS, [Sample({}, 20.0)], set())
    assert status.alert == "off in this profile"
    assert status.state == "misses target"  # target > 1000 req/s


def _report(severity: str) -> Status:
    entry = OPTIONS.catalog["error_rate"]
    metric = metric_status(entry, OPTIONS, [Sample({}, 0.2)], {"firing"})
    alert = AlertStatus("PlexichatErrorRateHigh", severity, "firing", "Error Rate is 20%", "u", "")
    return Status(
        prometheus="http://p",
        profile="development",
        time_scale=1,
        evaluated_at=0,
        metrics=[metric],
        budgets=[BudgetStatus("availability", "99.9 %", "30d", -0.5)],
        alerts=[alert],
    )


def test_exit_status_and_json_report_a_firing_critical() -> None:
    critical = _report("critical")
    assert exit_status(critical) == ExitCode.CRITICAL
    assert exit_status(_report("warning")) == 0
    data = json.loads(as_json(critical))
    assert data["critical_firing"] is True
    assert data["metrics"][0]["display"] == "20 %"


def test_the_plain_table_has_every_column_and_the_runbook() -> None:
    console = Console(width=200, no_color=True)
    with console.capture() as captured:
        console.print(render(_report("critical"), plain=True))
    text = captured.get()
    assert "Error Rate" in text
    assert "20 %" in text
    assert "firing" in text
    assert "exhausted: 1.5x the budget spent" in text
    assert "runbook: u" in text
    assert "┏" not in text
    assert "━" not in text


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["sigint", "sigterm"])
def test_watch_stops_on_a_signal_even_with_sigint_inherited_ignored(
    tmp_path: Path, stop: signal.Signals
) -> None:
    # A background job of a non-interactive shell (CI) starts with SIGINT ignored.
    nobody = f"http://127.0.0.1:{free_port()}"
    watch = ["status", "--watch", "0.2", "--prometheus", nobody, "--dir", str(tmp_path)]
    with subprocess.Popen(
        [sys.executable, "-m", "plexichat.cli", *watch],
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
    ) as watching:
        assert watching.stderr is not None
        assert "plexichat-obs status:" in watching.stderr.readline()  # a look was made
        watching.send_signal(stop)
        try:
            watching.wait(timeout=10)
        finally:
            watching.kill()
    assert watching.returncode == ExitCode.FAILURE  # the status of the last look


def test_each_row_says_which_statistic_over_which_window() -> None:
    def statistic(entry_id: str, options: Options = OPTIONS) -> str:
        return metric_status(options.catalog[entry_id], options, [], set()).statistic

    assert statistic("request_latency") == "5m p95 TTFB"
    assert statistic("response_time") == "5m mean"
    assert statistic("cpu_usage") == "now"
    assert statistic("throughput", OPTIONS.scaled(0.1)) == "6s rate"  # up's compressed time
    row = metric_status(OPTIONS.catalog["request_latency"], OPTIONS, [], set())
    assert "Request Latency (5m p95 TTFB) " in _shown(_one(row))  # no data: no histogram


def _one(row: MetricStatus) -> Status:
    return Status("u", None, 1, 0.0, [row], [], [])


JOB = {"job": "plexichat"}


def test_a_quantile_row_says_which_histogram_answered() -> None:
    entry = OPTIONS.catalog["request_latency"]
    native = metric_status(entry, OPTIONS, [Sample(JOB, 0.0021)], set(), [Sample(JOB, 40.0)])
    assert (native.histogram, native.display) == ("native", "2.1 ms")
    assert "Request Latency (5m p95 TTFB, native histogram)  2.1 ms" in _shown(_one(native))
    assert json.loads(as_json(_one(native)))["metrics"][0]["histogram"] == "native"

    classic = metric_status(entry, OPTIONS, [Sample(JOB, 0.0048)], set(), [])
    assert classic.histogram == "classic"
    shown = _shown(_one(classic))
    assert "Request Latency (5m p95 TTFB, classic buckets, bucket-bounded)  4.8 ms" in shown
    assert json.loads(as_json(_one(classic)))["metrics"][0]["histogram"] == "classic"


def test_the_histogram_is_the_one_of_the_value_shown() -> None:
    entry = OPTIONS.catalog["request_latency"]
    a, b = {"job": "a"}, {"job": "b"}
    samples = [Sample(a, 0.004), Sample(b, 0.002)]
    # the worst (slowest) job, a, is answered from its classic buckets; b from its native one
    row = metric_status(entry, OPTIONS, samples, set(), [Sample(b, 40.0)])
    assert (row.value, row.histogram) == (0.004, "classic")
    row = metric_status(entry, OPTIONS, samples, set(), [Sample(a, 40.0)])
    assert (row.value, row.histogram) == (0.004, "native")


def test_only_a_quantile_names_a_histogram() -> None:
    rate = metric_status(OPTIONS.catalog["response_time"], OPTIONS, [Sample(JOB, 0.01)], set())
    assert rate.histogram is None
    assert json.loads(as_json(_one(rate)))["metrics"][0]["histogram"] is None
    assert "Response Time (5m mean)  10 ms" in _shown(_one(rate))


class _Prometheus:
    """What ``collect`` asks of Prometheus: no samples, these active alerts."""

    url = "http://p"

    def __init__(self, alerts: list[dict[str, Any]]) -> None:
        self._alerts = alerts

    def alerts(self) -> list[dict[str, Any]]:
        return self._alerts

    def query(self, expr: str) -> list[Sample]:
        return []


def _active(name: str, severity: str, since: str = "2026-12-01T10:00:00Z") -> dict[str, Any]:
    return {
        "labels": {"alertname": name, "severity": severity},
        "annotations": {"summary": f"{name} fires", "runbook_url": f"u#{name.lower()}"},
        "state": "firing",
        "activeAt": since,
    }


def _shown(status: Status) -> str:
    console = Console(width=200, no_color=True)
    with console.capture() as captured:
        console.print(render(status, plain=True))
    return captured.get()


def test_the_watchdog_has_its_own_line_and_never_counts_as_a_problem() -> None:
    api = _Prometheus([_active(WATCHDOG, "none"), _active("PlexichatErrorRateHigh", "warning")])
    status = collect(api, OPTIONS)  # type: ignore[arg-type]
    assert [a.alertname for a in status.alerts] == ["PlexichatErrorRateHigh"]
    assert status.watchdog_firing
    assert status.watchdog_since == "2026-12-01T10:00:00Z"
    assert exit_status(status) == ExitCode.OK
    assert json.loads(as_json(status))["watchdog_firing"] is True
    text = _shown(status)
    assert "Watchdog (alerting heartbeat): firing since 2026-12-01T10:00:00Z" in text
    assert "Firing alerts:" in text
    assert "Watchdog (none)" not in text  # not listed among the firing alerts

    quiet = collect(_Prometheus([_active(WATCHDOG, "none")]), OPTIONS)  # type: ignore[arg-type]
    assert quiet.alerts == []
    assert "No alert is firing." in _shown(quiet)  # the Watchdog is no alert to act on


def test_a_silent_watchdog_says_alerting_is_dead_without_changing_the_exit_status() -> None:
    status = collect(_Prometheus([]), OPTIONS)  # type: ignore[arg-type]
    assert not status.watchdog_firing
    assert exit_status(status) == ExitCode.OK
    assert json.loads(as_json(status))["watchdog_firing"] is False
    text = _shown(status)
    assert "Watchdog (alerting heartbeat): NOT firing" in text
    assert "alerting is dead" in text
