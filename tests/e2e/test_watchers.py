"""The alerting path watching itself, live: ``plexichat-obs up`` (real Prometheus and
Alertmanager, the shipped configuration for the ``up`` target, time scale 0.01) with no
traffic and no fault.

Checks: Prometheus scrapes itself and Alertmanager (jobs ``prometheus`` and ``alertmanager``
up); every series the stack alerts read (``watchers.SERIES``) is exposed by the real binaries;
the Watchdog fires in Prometheus and reaches the webhook receiver through its own route
(receiver ``watchdog``) again and again, never as ``resolved``, and never through the default
receiver; no other stack alert fires on a healthy stack; ``status`` shows the heartbeat on its
own line and exits 0 while only the Watchdog fires.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from datetime import datetime

import pytest

from plexichat.generate.stack.alertmanager import HEARTBEAT_RECEIVER
from plexichat.generate.watchers import (
    ALERTMANAGER_JOB,
    PROMETHEUS_JOB,
    SERIES,
    WATCHDOG,
    WATCHERS,
)
from tests.support.stack import Stack, wait_for

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    running = Stack(tmp_path_factory.mktemp("watchers"), ["--time-scale", "0.01"])
    try:
        yield running
    finally:
        if running.process.poll() is None:
            assert running.stop() == 0


def test_prometheus_scrapes_itself_and_alertmanager(stack: Stack) -> None:
    for job in (PROMETHEUS_JOB, ALERTMANAGER_JOB):
        query = f'up{{job="{job}"}} == 1'
        wait_for(functools.partial(stack.prometheus.query, query), 30, f"job {job} up")

    def missing() -> set[str]:
        return {name for name in SERIES if not stack.prometheus.query(f"count({name})")}

    wait_for(lambda: not missing(), 30, f"the watchers' series {missing()}")


def test_the_watchdog_reaches_its_receiver_again_and_again(stack: Stack) -> None:
    wait_for(lambda: stack.alerts(WATCHDOG), 30, "the Watchdog to fire in Prometheus")
    (firing,) = stack.alerts(WATCHDOG)
    assert firing["state"] == "firing"
    assert firing["labels"]["severity"] == "none"

    def heartbeats() -> list[dict[str, object]]:
        return [n for n in stack.notifications() if n["alertname"] == WATCHDOG]

    # Prometheus' first sends at start-up can precede its discovery of Alertmanager (dropped);
    # it re-sends firing alerts every second at this time scale (up_resend_delay). Then the
    # heartbeat comes every 10 s (Timing.heartbeat_interval).
    beats = wait_for(lambda: len(heartbeats()) >= 2 and heartbeats(), 150, "two heartbeats")
    assert {n["receiver"] for n in beats} == {HEARTBEAT_RECEIVER}
    assert {n["status"] for n in beats} == {"firing"}
    assert beats[0]["runbook_url"].endswith("#watchdog")
    first, second = (datetime.fromisoformat(str(n["received_at"])) for n in beats[:2])
    assert (second - first).total_seconds() >= 5  # re-sent on its interval, not a burst


def test_nothing_else_of_the_alerting_path_fires_and_status_shows_the_heartbeat(
    stack: Stack,
) -> None:
    others = {w.name for w in WATCHERS} - {WATCHDOG}
    firing = {a["labels"]["alertname"] for a in stack.prometheus.alerts()} & others
    assert firing == set()
    assert [n for n in stack.notifications() if n["alertname"] in others] == []

    shown = stack.cli("status")
    assert shown.returncode == 0, shown.stdout + shown.stderr  # the Watchdog is no problem
    assert "Watchdog (alerting heartbeat): firing since" in shown.stdout
    report = json.loads(stack.cli("status", "--format", "json").stdout)
    assert report["watchdog_firing"] is True
    assert WATCHDOG not in {a["alertname"] for a in report["alerts"]}
