"""``plexichat-obs up`` end to end: the shipped configuration's alert path, from a fault to a
notification, and every dashboard query, recording rule and status value on the live stack.

One stack for the module (development profile, 40 req/s, ``--fault error_rate=0.2``, time scale
0.01 so a ``for: 5m`` is 3 s; about 90 s in all), then, in order:

1. the error-rate alert and the availability burn-rate alert go pending then firing in
   Prometheus, reach Alertmanager, and the receiver gets ``firing`` with job, service,
   severity, summary and runbook_url; the burn-rate *ticket* (warning) fires in Prometheus but
   is inhibited by its *page* (critical) in Alertmanager and never notified; ``status`` exits 3;
   a second ``up`` on the same directory is refused;
2. with that small error rate flowing, every dashboard query and recording rule returns data,
   the Overview's *Stack healthy* reads 1 (the service is unwell, not the stack), ``status``
   has a value for every catalog metric, ``snapshot`` draws one PNG per dashboard;
3. after ``plexichat-obs fault off`` (the runtime switch) the receiver gets ``resolved`` and
   ``status`` exits 0;
4. stopping ``up`` leaves no child process (by PID) and no port bound.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from plexichat.catalog import load_catalog
from tests.generate import support
from tests.generate.test_promql import NOT_YET_EMITTED
from tests.support.stack import Stack, wait_for

pytestmark = pytest.mark.integration

TIME_SCALE = "0.01"
ERROR_RATE = "PlexichatErrorRateHigh"
BURN = "PlexichatAvailabilityBudgetBurn"
PLEXICHAT_OBS = [sys.executable, "-m", "plexichat.cli"]
NOTIFIED_FIELDS = ("job", "service", "severity", "summary", "runbook_url")


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    running = Stack(
        tmp_path_factory.mktemp("up"),
        ["--traffic", "40", "--fault", "error_rate=0.2", "--time-scale", TIME_SCALE],
    )
    try:
        yield running
    finally:
        if running.process.poll() is None:
            running.stop()


def _watch_states(stack: Stack, seen: dict[tuple[str, str], list[str]]) -> None:
    for alert in stack.prometheus.alerts():
        labels = alert["labels"]
        key = (labels["alertname"], labels.get("long_window", ""))
        states = seen.setdefault(key, [])
        if not states or states[-1] != alert["state"]:
            states.append(alert["state"])


def _went_pending_then_firing(seen: dict[tuple[str, str], list[str]], name: str) -> bool:
    return any(
        key[0] == name and "pending" in states and "firing" in states[states.index("pending") :]
        for key, states in seen.items()
    )


def test_alerts_fire_reach_the_receiver_and_the_ticket_is_inhibited(stack: Stack) -> None:
    seen: dict[tuple[str, str], list[str]] = {}

    def both_fired() -> bool:
        _watch_states(stack, seen)
        return _went_pending_then_firing(seen, ERROR_RATE) and _went_pending_then_firing(seen, BURN)

    wait_for(both_fired, 60, f"{ERROR_RATE} and {BURN} to go pending, then firing: {seen}")

    for name in (ERROR_RATE, BURN):

        def notified(name: str = name) -> list[dict[str, Any]]:
            return stack.notified(name, "firing", severity="critical")

        firing = wait_for(notified, 30, f"the receiver to get {name} firing")
        for field in NOTIFIED_FIELDS:
            assert firing[0][field], (field, firing[0])
        assert firing[0]["job"] == firing[0]["service"] == "plexichat"
        assert firing[0]["runbook_url"].endswith(f"#{name.lower()}")

    # The ticket (warning) of the same SLO fires in Prometheus, but its page inhibits it.
    wait_for(
        lambda: [
            a
            for a in stack.alerts(BURN)
            if a["labels"]["severity"] == "warning" and a["state"] == "firing"
        ],
        90,
        "the availability ticket (warning) to fire in Prometheus",
    )

    def inhibited() -> list[dict[str, object]]:
        return [
            a
            for a in stack.alertmanager_alerts()
            if a["labels"]["alertname"] == BURN
            and a["labels"]["severity"] == "warning"
            and a["status"]["inhibitedBy"]
        ]

    wait_for(inhibited, 30, "Alertmanager to inhibit the ticket")
    assert stack.notified(BURN, "firing", severity="warning") == []

    status = stack.cli("status", "--format", "json")
    assert status.returncode == 3, status.stdout + status.stderr
    report = json.loads(status.stdout)
    assert report["critical_firing"] is True
    assert {m["id"]: m["state"] for m in report["metrics"]}["error_rate"] == "firing"

    second = stack.cli("up", "--ports", "auto")
    assert second.returncode == 1
    assert "a stack already runs from" in second.stdout + second.stderr


def test_every_dashboard_query_recording_rule_and_status_value_has_data(
    stack: Stack, tmp_path: Path
) -> None:
    def empty_queries() -> list[tuple[str, str]]:
        return [
            (path.stem, title)
            for path in support.DASHBOARD_FILES
            for title, expr in support.dashboard_queries(support.dashboard(path))
            if not support.series_names(expr) & NOT_YET_EMITTED and not stack.prometheus.query(expr)
        ]

    wait_for(lambda: not empty_queries(), 60, "every dashboard query to return data")
    assert empty_queries() == []
    # The service's error-rate page fires, but Redis, Prometheus and Alertmanager are well.
    overview = support.dashboard(support.DASHBOARDS / "overview.json")
    (healthy,) = [
        expr for title, expr in support.dashboard_queries(overview) if title == "Stack healthy"
    ]
    assert [s.value for s in stack.prometheus.query(healthy)] == [1]
    missing_records = [r for r in sorted(support.records()) if not stack.prometheus.query(r)]
    assert missing_records == []

    status = stack.cli("status", "--format", "json")
    values = {m["id"]: m["value"] for m in json.loads(status.stdout)["metrics"]}
    assert set(values) == set(load_catalog().ids)
    assert [k for k, v in values.items() if v is None] == []

    # --watch: a look every second until Ctrl-C, one JSON document per line when piped.
    watch = ["status", "--watch", "1", "--format", "json", "--dir", str(stack.dir.root)]
    with subprocess.Popen([*PLEXICHAT_OBS, *watch], stdout=subprocess.PIPE, text=True) as watching:
        assert watching.stdout is not None
        watchdog = threading.Timer(90, watching.kill)
        watchdog.start()
        try:
            looks = [json.loads(watching.stdout.readline()) for _ in range(2)]
            watching.send_signal(signal.SIGINT)
            watching.communicate(timeout=30)
        finally:
            watchdog.cancel()
            watching.kill()
    assert looks[1]["evaluated_at"] > looks[0]["evaluated_at"]
    assert watching.returncode == 3  # the last look: the error-rate page still fires

    out = tmp_path / "png"
    # ~15 s on a quiet 2-core machine (matplotlib draws every panel); the timeout only catches
    # a hang: a CI host busy with other jobs took over 60 s.
    snapshot = stack.cli(
        "snapshot",
        "--out",
        str(out),
        "--dashboards",
        str(support.DASHBOARDS),
        "--range",
        "2m",
        timeout_s=240,
    )
    assert snapshot.returncode == 0, snapshot.stderr
    pictures = sorted(p.stem for p in out.glob("*.png"))
    assert pictures == sorted(p.stem for p in support.DASHBOARD_FILES)
    for picture in out.glob("*.png"):
        data = picture.read_bytes()
        assert data.startswith(b"\x89PNG\r\n\x1a\n")
        assert len(data) > 20_000, picture  # panels drawn, not an empty canvas


def test_switching_the_fault_off_resolves_and_status_exits_zero(stack: Stack) -> None:
    switched = stack.cli("fault", "off")
    assert switched.returncode == 0, switched.stderr
    wait_for(
        lambda: stack.notified(ERROR_RATE, "resolved"),
        60,
        f"the receiver to get {ERROR_RATE} resolved",
    )
    wait_for(
        lambda: stack.cli("status").returncode == 0,
        60,
        "status to exit 0 once no critical alert fires",
    )


def test_stopping_leaves_no_process_and_no_port(stack: Stack) -> None:
    assert stack.stop() == 0
    assert stack.ports_bound() == []
    assert "stopped; no process of the stack is left" in stack.output
    assert not stack.dir.state.exists()
