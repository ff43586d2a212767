"""The Watchdog's heartbeat at the receiver, live: ``plexichat-obs up`` (real Prometheus,
Alertmanager and receiver, time scale 0.01: a heartbeat every 10 s, late after 25 s) with no
traffic.

``status --check`` exits 0 while the heartbeat arrives and says when it last did. Then the
delivery breaks for real: Alertmanager frozen (SIGSTOP; ``up`` sees it alive, Prometheus keeps
evaluating and the Watchdog keeps firing, nothing reaches the receiver). Within a bounded wait
``status --check`` exits ``ALERTING_BROKEN`` and prints the loud line; thawed, the heartbeat
arrives again and the check passes. A receiver that cannot answer (frozen too) fails the
check with ``FAILURE`` instead of hanging it. Killing the receiver would not do: ``up`` stops
the whole stack when a component dies, and then ``status`` has no receiver to ask.
"""

from __future__ import annotations

import json
import signal
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest

from plexichat.exit_code import ExitCode
from plexichat.generate.stack.alertmanager import HEARTBEAT_RECEIVER
from plexichat.generate.watchers import WATCHDOG
from tests.support.stack import Stack, wait_for

pytestmark = pytest.mark.integration

# Prometheus' first sends can precede its discovery of Alertmanager; it re-sends a minute later.
FIRST_HEARTBEAT_S = 150
# Late after 25 s, looked at every ~second (a status process each): a generous bound.
BREAK_SEEN_S = 120


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    running = Stack(tmp_path_factory.mktemp("heartbeat"), ["--time-scale", "0.01"])
    try:
        yield running
    finally:
        if running.process.poll() is None:
            assert running.stop() == 0


def _heartbeats(stack: Stack) -> list[dict[str, Any]]:
    return [
        n
        for n in stack.notifications()
        if n["alertname"] == WATCHDOG and n["receiver"] == HEARTBEAT_RECEIVER
    ]


def _check(stack: Stack) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    """``status --check`` as JSON: the process and its report."""
    done = stack.cli("status", "--check", "--format", "json")
    return done, json.loads(done.stdout)


def _check_exits(stack: Stack, code: ExitCode) -> dict[str, Any] | None:
    done, report = _check(stack)
    return report if done.returncode == code else None


def test_status_check_passes_and_shows_the_last_arrival_while_the_heartbeat_arrives(
    stack: Stack,
) -> None:
    wait_for(lambda: _heartbeats(stack), FIRST_HEARTBEAT_S, "the first heartbeat")
    done, report = _check(stack)
    assert done.returncode == ExitCode.OK, done.stdout + done.stderr
    beat = report["heartbeat"]
    receiver = stack.state.components["receiver"].url
    assert receiver is not None
    assert receiver.startswith(beat["receiver"])  # up's own receiver, found from its state
    assert (beat["state"], beat["late"], beat["interval_s"]) == ("arrived", False, 10.0)
    assert beat["last_arrival"] >= _heartbeats(stack)[0]["received_at"]
    assert beat["age_s"] <= beat["late_after_s"] == 25.0
    assert report["alerting_broken"] is False

    shown = stack.cli("status", "--check")
    assert shown.returncode == ExitCode.OK, shown.stdout + shown.stderr
    assert "Heartbeat at the receiver: arrived" in shown.stdout
    assert "BROKEN" not in shown.stdout


def test_status_check_fails_loudly_when_the_heartbeat_stops_and_passes_once_it_resumes(
    stack: Stack,
) -> None:
    wait_for(lambda: _heartbeats(stack), FIRST_HEARTBEAT_S, "the first heartbeat")
    stack.signal_component("alertmanager", signal.SIGSTOP)
    try:
        report = wait_for(
            lambda: _check_exits(stack, ExitCode.ALERTING_BROKEN),
            BREAK_SEEN_S,
            "status --check to see the heartbeat late",
        )
        beat = report["heartbeat"]
        assert beat["late"] is True
        assert beat["age_s"] > beat["late_after_s"]
        assert beat["last_arrival"] is not None
        assert report["watchdog_firing"] is True  # Prometheus still evaluates and sends

        shown = stack.cli("status", "--check")
        assert shown.returncode == ExitCode.ALERTING_BROKEN, shown.stdout + shown.stderr
        assert "ALERTING IS BROKEN: the heartbeat has not reached the receiver for" in shown.stdout
        plain = stack.cli("status")
        assert "ALERTING IS BROKEN" in plain.stdout
        # Plain status keeps its exit status (a stack alert on the frozen Alertmanager may be a
        # critical one by now).
        assert plain.returncode in (ExitCode.OK, ExitCode.CRITICAL), plain.stdout + plain.stderr
    finally:
        stack.signal_component("alertmanager", signal.SIGCONT)

    after = wait_for(
        lambda: _check_exits(stack, ExitCode.OK), BREAK_SEEN_S, "the heartbeat to come back"
    )
    assert after["heartbeat"]["state"] == "arrived"
    assert after["heartbeat"]["last_arrival"] > beat["last_arrival"]


def test_a_receiver_that_cannot_answer_fails_the_check_without_hanging_it(stack: Stack) -> None:
    stack.signal_component("receiver", signal.SIGSTOP)
    try:
        done, report = _check(stack)
    finally:
        stack.signal_component("receiver", signal.SIGCONT)
    assert done.returncode == ExitCode.FAILURE, done.stdout + done.stderr
    assert report["heartbeat"]["state"] == "unreachable"
    assert report["heartbeat"]["error"].startswith(report["heartbeat"]["receiver"] + "/arrivals")
