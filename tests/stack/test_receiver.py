"""``plexichat-obs receive``: a real receiver process, fed Alertmanager's webhook payload shape,
and its ``GET /arrivals``. The end-to-end tests (tests/e2e) prove real Alertmanager deliveries
reach it."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from plexichat.generate.stack.alertmanager import HEARTBEAT_RECEIVER
from plexichat.generate.watchers import WATCHDOG
from plexichat.stack.arrivals import ArrivalsReport
from plexichat.stack.heartbeat import check
from plexichat.stack.notifications import Notification, PayloadError, parse
from tests.support.tools import free_port

PAYLOAD = {
    "version": "4",
    "groupKey": '{}:{alertname="PlexichatErrorRateHigh", service="plexichat"}',
    "truncatedAlerts": 0,
    "status": "firing",
    "receiver": "default",
    "groupLabels": {"alertname": "PlexichatErrorRateHigh", "service": "plexichat"},
    "commonLabels": {},
    "commonAnnotations": {},
    "externalURL": "http://127.0.0.1:9093",
    "alerts": [
        {
            "status": "firing",
            "labels": {
                "alertname": "PlexichatErrorRateHigh",
                "severity": "critical",
                "service": "plexichat",
                "job": "plexichat",
            },
            "annotations": {
                "summary": "Error Rate of plexichat is 20%, above the alert threshold 1 %.",
                "runbook_url": "https://example.invalid/runbooks.md#plexichaterrorratehigh",
            },
            "startsAt": "2026-11-30T12:00:00Z",
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "http://127.0.0.1:9090/graph",
            "fingerprint": "0123456789abcdef",
        },
        {
            "status": "resolved",
            "labels": {"alertname": "PlexichatCpuUsageHigh", "severity": "warning"},
            "annotations": {},
            "startsAt": "2026-11-30T11:00:00Z",
            "endsAt": "2026-11-30T11:30:00Z",
            "fingerprint": "fedcba9876543210",
        },
    ],
}


def test_one_notification_per_alert_with_the_fields_people_read() -> None:
    now = datetime(2026, 11, 30, 12, 0, 3, tzinfo=UTC)
    first, second = parse(json.dumps(PAYLOAD).encode(), now=now)
    assert (first.status, first.alertname, first.severity, first.service, first.job) == (
        "firing",
        "PlexichatErrorRateHigh",
        "critical",
        "plexichat",
        "plexichat",
    )
    assert first.runbook_url.endswith("#plexichaterrorratehigh")
    assert first.receiver == "default"
    assert first.group_key == PAYLOAD["groupKey"]
    assert first.received_at == "2026-11-30T12:00:03Z"
    assert first.line() == (
        "12:00:03 FIRING   PlexichatErrorRateHigh critical plexichat  "
        "Error Rate of plexichat is 20%, above the alert threshold 1 %."
    )
    assert second.status == "resolved"
    assert second.line().startswith("12:00:03 RESOLVED PlexichatCpuUsageHigh warning -  ")
    assert Notification.from_json(first.to_json()) == first


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"not json", "not JSON"),
        (b'{"status": "firing"}', "no 'alerts' list"),
        (b'{"alerts": ["x"]}', "alerts[0] must be an object"),
        (b'{"alerts": [{"labels": []}]}', "alerts[0].labels must be an object"),
    ],
)
def test_a_body_that_is_no_webhook_payload_is_refused_with_the_reason(
    body: bytes, reason: str
) -> None:
    with pytest.raises(PayloadError, match=re.escape(reason)):
        list(parse(body))


@dataclass
class Receiver:
    url: str
    out: Path
    process: subprocess.Popen[str]


@pytest.fixture
def receiver(tmp_path: Path) -> Iterator[Receiver]:
    port = free_port()
    out = tmp_path / "notifications.jsonl"
    with subprocess.Popen(
        [sys.executable, "-m", "plexichat.cli", "receive", "--port", str(port), "--out", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as process:  # the pipes are closed however the test ends
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 15
        while True:
            try:
                if httpx.get(f"{url}/-/ready", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise
            time.sleep(0.05)
        try:
            yield Receiver(url, out, process)
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
            process.wait(timeout=10)


def test_the_receiver_process_logs_and_prints_each_alert(receiver: Receiver) -> None:
    response = httpx.post(f"{receiver.url}/alerts", json=PAYLOAD)
    assert response.status_code == 200
    lines = receiver.out.read_text().splitlines()
    assert [json.loads(line)["alertname"] for line in lines] == [
        "PlexichatErrorRateHigh",
        "PlexichatCpuUsageHigh",
    ]

    bad = httpx.post(f"{receiver.url}/alerts", content=b"not json")
    assert bad.status_code == 400
    assert "not JSON" in bad.text
    assert len(receiver.out.read_text().splitlines()) == 2  # nothing written for it

    receiver.process.send_signal(signal.SIGTERM)
    stdout, stderr = receiver.process.communicate(timeout=10)
    assert receiver.process.returncode == 0
    printed = stdout.splitlines()
    assert len(printed) == 2
    assert "FIRING   PlexichatErrorRateHigh critical plexichat  Error Rate" in printed[0]
    assert "RESOLVED PlexichatCpuUsageHigh warning" in printed[1]
    assert "/alerts: body is not JSON" in stderr


def test_the_receiver_answers_when_each_alert_last_arrived(receiver: Receiver) -> None:
    before = httpx.get(f"{receiver.url}/arrivals", timeout=5)
    assert before.status_code == 200
    assert before.headers["content-type"] == "application/json"
    empty = ArrivalsReport.from_json(before.content)
    assert empty.last == {}
    assert empty.started <= empty.now

    heartbeat = {
        **PAYLOAD,
        "receiver": HEARTBEAT_RECEIVER,
        "alerts": [{"status": "firing", "labels": {"alertname": WATCHDOG, "severity": "none"}}],
    }
    assert httpx.post(f"{receiver.url}/watchdog", json=heartbeat).status_code == 200
    assert httpx.post(f"{receiver.url}/alerts", json=PAYLOAD).status_code == 200
    report = ArrivalsReport.from_json(httpx.get(f"{receiver.url}/arrivals", timeout=5).content)
    arrived = report.last_arrival(HEARTBEAT_RECEIVER, WATCHDOG)
    assert arrived is not None
    assert empty.started <= arrived <= report.now
    assert report.last_arrival("default", "PlexichatErrorRateHigh") is not None
    assert report.last_arrival("default", "PlexichatCpuUsageHigh", "resolved") is not None
    assert report.last_arrival("default", "PlexichatCpuUsageHigh") is None  # only resolved came
    assert report.last_arrival("default", WATCHDOG) is None  # not through the default route

    # status reads it: the heartbeat just arrived, so it is fresh.
    beat = check(receiver.url, 10, "2026-12-01T10:00:00Z")
    assert (beat.state, beat.late, beat.receiver) == ("arrived", False, receiver.url)
    assert beat.age_s is not None
    assert beat.age_s <= 5
