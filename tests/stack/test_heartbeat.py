"""The heartbeat rule of ``status`` (fresh, late, never arrived, no receiver, a receiver that
cannot be asked), how it is shown and what ``--check`` exits with. Arrivals reports are built
here; the real receiver answering them is in tests/stack/test_receiver.py, the live rule on a
running ``up`` in tests/e2e/test_heartbeat.py."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from rich.console import Console

from plexichat.exit_code import ExitCode
from plexichat.generate.stack.alertmanager import HEARTBEAT_RECEIVER
from plexichat.generate.watchers import WATCHDOG
from plexichat.stack.arrivals import ArrivalsError, ArrivalsReport
from plexichat.stack.heartbeat import (
    GRACE_S,
    NOT_CHECKED,
    RESEND_DELAY_S,
    Heartbeat,
    check,
    judge,
)
from plexichat.stack.layout import StackDir
from plexichat.stack.state import ComponentState, StackLock, StackState
from plexichat.stack.state import write as write_state
from plexichat.stack.status import AlertStatus, Status
from plexichat.stack.status_command import StatusOptions, exit_status, heartbeat_source
from plexichat.stack.status_view import as_json, render
from tests.support.tools import free_port

NOW = datetime(2026, 12, 1, 10, 0, 0, tzinfo=UTC)
INTERVAL_S = 10.0  # up's heartbeat interval at time scale 0.01
LATE_AFTER_S = 2 * INTERVAL_S + GRACE_S
RECEIVER = "http://receiver"


def _report(last_s_ago: float | None, listening_s: float = 3600) -> ArrivalsReport:
    last = {}
    if last_s_ago is not None:
        last = {HEARTBEAT_RECEIVER: {WATCHDOG: {"firing": NOW - timedelta(seconds=last_s_ago)}}}
    return ArrivalsReport(NOW, NOW - timedelta(seconds=listening_s), last)


def _judge(report: ArrivalsReport, firing_s: float | None = 3600) -> Heartbeat:
    since = None if firing_s is None else NOW - timedelta(seconds=firing_s)
    return judge(RECEIVER, report, INTERVAL_S, since, NOW)


def test_a_heartbeat_within_two_intervals_and_the_grace_is_fresh() -> None:
    beat = _judge(_report(LATE_AFTER_S))
    assert (beat.state, beat.late, beat.age_s) == ("arrived", False, LATE_AFTER_S)
    assert beat.last_arrival == "2026-12-01T09:59:35Z"
    assert (beat.interval_s, beat.late_after_s) == (INTERVAL_S, LATE_AFTER_S)


def test_a_heartbeat_older_than_two_intervals_and_the_grace_is_late() -> None:
    beat = _judge(_report(LATE_AFTER_S + 1))
    assert (beat.state, beat.late, beat.age_s) == ("late", True, LATE_AFTER_S + 1)
    # Late whatever Prometheus says: a Watchdog that stopped firing sends no heartbeat either.
    assert _judge(_report(LATE_AFTER_S + 1), firing_s=None).late


def test_only_the_watchdog_on_its_own_route_firing_counts_as_a_heartbeat() -> None:
    fresh = NOW - timedelta(seconds=1)
    others = {
        "default": {WATCHDOG: {"firing": fresh}},  # through the wrong route
        HEARTBEAT_RECEIVER: {WATCHDOG: {"resolved": fresh}, "Other": {"firing": fresh}},
    }
    beat = _judge(ArrivalsReport(NOW, NOW - timedelta(hours=1), others))
    assert (beat.state, beat.last_arrival) == ("late", None)


def test_none_arrived_is_late_once_the_watchdog_fired_and_the_receiver_listened_that_long() -> None:
    # Prometheus' first sends may precede its discovery of Alertmanager: one resend delay more.
    limit = LATE_AFTER_S + RESEND_DELAY_S
    waiting = _judge(_report(None), firing_s=limit)
    assert (waiting.state, waiting.late, waiting.age_s) == ("none yet", False, limit)
    late = _judge(_report(None), firing_s=limit + 1)
    assert (late.state, late.late, late.age_s, late.last_arrival) == ("late", True, limit + 1, None)
    # The receiver listens since a restart: the wait counts from then.
    assert not _judge(_report(None, listening_s=30), firing_s=3600).late
    assert _judge(_report(None, listening_s=limit + 1), firing_s=3600).late


def test_none_arrived_while_the_watchdog_does_not_fire_is_no_late_heartbeat() -> None:
    beat = _judge(_report(None), firing_s=None)
    assert (beat.state, beat.late, beat.age_s) == ("none yet", False, None)


def test_no_receiver_to_ask_is_not_checked_neither_broken_nor_fine() -> None:
    beat = check(None, INTERVAL_S, "2026-12-01T09:00:00Z")
    assert beat == NOT_CHECKED
    assert (beat.state, beat.late, beat.unreachable) == ("not checked", False, False)
    text = _shown(_status(beat))
    assert "Heartbeat at the receiver: delivery not checked" in text
    assert "BROKEN" not in text
    assert exit_status(_status(beat), check=True) == ExitCode.OK


def test_a_receiver_that_does_not_answer_cannot_be_checked_and_fails_the_check() -> None:
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    beat = check(url, INTERVAL_S, "2026-12-01T09:00:00Z", timeout_s=2)
    assert (beat.state, beat.unreachable, beat.late) == ("unreachable", True, False)
    assert beat.error is not None
    assert beat.error.startswith(f"{url}/arrivals: ")
    assert f"cannot be checked: {url}/arrivals" in _shown(_status(beat))
    assert exit_status(_status(beat), check=True) == ExitCode.FAILURE
    assert exit_status(_status(beat)) == ExitCode.OK  # plain status: today's exit status


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"<html>", "the body is not JSON"),
        (b"[]", "'(the body)' must be an object"),
        (b'{"started": "2026-12-01T10:00:00Z"}', "'now' must be a UTC time string"),
        (b'{"now": "yesterday", "started": "x"}', "'now' is not an ISO 8601 time"),
        (b'{"now": "2026-12-01T10:00:00", "started": "x"}', "'now' has no time zone"),
        (
            b'{"now": "2026-12-01T10:00:00Z", "started": "2026-12-01T10:00:00Z",'
            b' "last": {"watchdog": {"Watchdog": {"firing": 3}}}}',
            "'last.watchdog.Watchdog.firing' must be a UTC time string",
        ),
    ],
)
def test_an_answer_that_is_no_arrivals_report_names_the_key(body: bytes, reason: str) -> None:
    with pytest.raises(ArrivalsError, match=reason.replace("(", r"\(").replace(")", r"\)")):
        ArrivalsReport.from_json(body)


def _status(beat: Heartbeat, watchdog: bool = True) -> Status:
    since = "2026-12-01T09:00:00Z" if watchdog else None
    return Status("http://p", None, 1, NOW.timestamp(), [], [], [], since, beat)


def _shown(status: Status) -> str:
    console = Console(width=250, no_color=True)
    with console.capture() as captured:
        console.print(render(status, plain=True))
    return captured.get()


def test_a_late_heartbeat_is_the_loud_line_and_fails_only_the_check() -> None:
    late = _status(_judge(_report(31)))
    assert late.alerting_broken
    text = _shown(late)
    assert "ALERTING IS BROKEN: the heartbeat has not reached the receiver for 31 s" in text
    assert "last at 2026-12-01T09:59:29Z; expected every 10 s, late after 25 s" in text
    assert exit_status(late, check=True) == ExitCode.ALERTING_BROKEN
    assert exit_status(late) == ExitCode.OK  # plain status shows it, keeps its exit status
    data = json.loads(as_json(late))
    assert data["alerting_broken"] is True
    assert data["heartbeat"] == {
        "state": "late",
        "receiver": RECEIVER,
        "interval_s": INTERVAL_S,
        "late_after_s": LATE_AFTER_S,
        "last_arrival": "2026-12-01T09:59:29Z",
        "age_s": 31.0,
        "late": True,
        "error": None,
    }

    never = _shown(_status(_judge(_report(None), firing_s=90)))
    assert "ALERTING IS BROKEN: the heartbeat has not reached the receiver for 90 s" in never
    assert "none since it started" in never


def test_a_fresh_heartbeat_passes_the_check_and_says_when_it_arrived() -> None:
    fresh = _status(_judge(_report(3)))
    assert not fresh.alerting_broken
    assert exit_status(fresh, check=True) == ExitCode.OK
    text = _shown(fresh)
    assert "Heartbeat at the receiver: arrived 3 s ago, at 2026-12-01T09:59:57Z" in text
    assert "BROKEN" not in text
    assert "none yet after 5 s" in _shown(_status(_judge(_report(None), firing_s=5)))


def test_the_check_fails_when_the_watchdog_does_not_fire_and_broken_alerting_wins() -> None:
    silent = _status(_judge(_report(3)), watchdog=False)
    assert silent.alerting_broken
    assert exit_status(silent, check=True) == ExitCode.ALERTING_BROKEN
    assert exit_status(silent) == ExitCode.OK

    page = AlertStatus("PlexichatErrorRateHigh", "critical", "firing", "Error Rate is 20%", "", "")
    critical = replace(_status(_judge(_report(3))), alerts=[page])
    assert exit_status(critical, check=True) == ExitCode.CRITICAL
    assert exit_status(critical) == ExitCode.CRITICAL
    # A critical alert that fires while alerting is broken reaches nobody: that is the news.
    unheard = replace(critical, heartbeat=_judge(_report(31)))
    assert exit_status(unheard, check=True) == ExitCode.ALERTING_BROKEN
    assert exit_status(unheard) == ExitCode.CRITICAL


def _running(root: Path) -> StackLock:
    """A running ``up``'s state directory, as ``up`` leaves it: the lock held, stack.json."""
    stack = StackDir(root)
    lock = StackLock(stack)
    lock.acquire()
    receiver = ComponentState(4242, "http://127.0.0.1:19095/alerts", "receiver.log", None)
    state = StackState(
        pid=4241,
        started="2026-12-01T09:00:00Z",
        directory=str(root),
        profile="development",
        time_scale=0.01,
        scrape_interval="1s",
        prometheus_url="http://127.0.0.1:19090",
        alertmanager_url="http://127.0.0.1:19093",
        service_url="http://127.0.0.1:18000",
        components={"receiver": receiver},
    )
    write_state(stack, state)
    return lock


def test_status_asks_the_running_ups_receiver_at_its_time_scales_interval(tmp_path: Path) -> None:
    assert heartbeat_source(StatusOptions(directory=tmp_path)) == (None, 60.0)  # the bundles'
    given = StatusOptions(directory=tmp_path, receiver="http://switch:9095")
    assert heartbeat_source(given) == ("http://switch:9095", 60.0)

    lock = _running(tmp_path)
    try:
        # up's timing at time scale 0.01: a heartbeat every 10 s (targets.up_timing's floor)
        assert heartbeat_source(StatusOptions(directory=tmp_path)) == (
            "http://127.0.0.1:19095",
            10.0,
        )
        elsewhere = StatusOptions(directory=tmp_path, prometheus="http://127.0.0.1:29090")
        assert heartbeat_source(elsewhere) == (None, 60.0)  # another stack: not up's receiver
    finally:
        lock.release()
