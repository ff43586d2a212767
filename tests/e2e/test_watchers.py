"""The alerting path watching itself, live: ``plexichat-obs up`` (real Prometheus and
Alertmanager, the shipped configuration for the ``up`` target, time scale 0.01), no traffic.

Healthy first: Prometheus scrapes itself and Alertmanager (jobs ``prometheus`` and
``alertmanager`` up); every series the stack alerts read (``watchers.SERIES``) is exposed by the
real binaries; the Watchdog fires in Prometheus and reaches the webhook receiver through its
own route (receiver ``watchdog``) again and again, never as ``resolved``, and never through the
default receiver; no other stack alert fires on a healthy stack; ``status`` shows the heartbeat
on its own line and exits 0 while only the Watchdog fires.

Then each stack alert provoked on the real processes, one at a time: wait (bounded) for it to
fire with its labels, undo, wait for it to end; meanwhile no other stack alert fires in
Prometheus or reaches the receiver (``AlertWatch``). In the normal suite (seconds each at this
time scale, measured on our 2-CPU machine):

- a recording rule that fails at every evaluation (many-to-many matching; promtool accepts the
  file) added to up's rule files and Prometheus reloaded: ``PrometheusRuleEvaluationFailures``
  for its group reaches the receiver; removed and reloaded, it resolves there (12-16 s);
- a prometheus.yml and an alertmanager.yml each rejected by ``/-/reload`` (HTTP 500 naming the
  fault): ``PrometheusConfigReloadFailed`` and ``AlertmanagerConfigReloadFailed`` reach the
  receiver, delivered by the
  configuration each kept; put back, both resolve there (11-12 s);
- Prometheus reloaded without its ``alerting:`` block: ``PrometheusNotConnectedToAlertmanagers``
  fires in Prometheus (it cannot be delivered) and ends when the block is back (7-10 s);
- Alertmanager frozen (SIGSTOP; ``up`` supervises it, so killing it would stop the stack):
  ``StackTargetDown`` for job ``alertmanager`` fires in Prometheus, nothing reaches the
  receiver; SIGCONT ends it (4-5 s).

Under the ``every_alert`` mark (``scripts/test -m every_alert``), 20 s or more each:

- a second Alertmanager that refuses connections added to prometheus.yml:
  ``PrometheusNotificationErrors`` for it reaches the receiver through the live one; removed,
  it resolves there (19-20 s);
- the default receiver's webhook pointed at a closed port, with a route of the test's own
  sending ``AlertmanagerNotificationsFailing`` to a live receiver (``escalation``), and five
  alerts posted to Alertmanager 2 s apart: it fires (and is active in Alertmanager's API),
  reaches ``escalation``, the Watchdog keeps reaching its own receiver, nothing goes through
  the dead one; the webhook revived, it resolves at ``escalation`` (25 s).

What this time scale cannot show (Prometheus' and Alertmanager's fixed timeouts do not scale):
one alert group failing against a dead webhook fails once per 10 s, too rarely for the 4 s
window of ``AlertmanagerNotificationsFailing`` (hence five groups); a frozen Alertmanager
makes each send wait Prometheus' 10 s timeout, too rarely for ``PrometheusNotificationErrors``
(hence one that refuses); and after every successful Prometheus reload
``PrometheusNotConnectedToAlertmanagers`` may fire for a moment (``RELOAD_GAP``).
"""

from __future__ import annotations

import contextlib
import functools
import json
import signal
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from plexichat.generate.stack.alertmanager import HEARTBEAT_RECEIVER, RECEIVER
from plexichat.generate.watchers import (
    ALERTMANAGER_JOB,
    PROMETHEUS_JOB,
    SERIES,
    WATCHDOG,
    WATCHERS,
)
from tests.support.alert_watch import AlertWatch
from tests.support.stack import Stack, wait_for
from tests.support.tools import promtool, refusing_port

pytestmark = pytest.mark.integration

RULE_FAILURES = "PrometheusRuleEvaluationFailures"
RELOAD_FAILED = {
    PROMETHEUS_JOB: "PrometheusConfigReloadFailed",
    ALERTMANAGER_JOB: "AlertmanagerConfigReloadFailed",
}
"""The reload alert of each watcher (one source each)."""
NOT_CONNECTED = "PrometheusNotConnectedToAlertmanagers"
SEND_ERRORS = "PrometheusNotificationErrors"
TARGET_DOWN = "StackTargetDown"
DELIVERY_FAILING = "AlertmanagerNotificationsFailing"
STACK_ALERTS = frozenset(w.name for w in WATCHERS)


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


# --- each alert of the alerting path provoked (the checks above see the stack healthy first) ---


def _watch(stack: Stack, provoked: str, *tolerated: str) -> AlertWatch:
    """A watch in which no stack alert may fire but ``provoked``, the Watchdog and
    ``tolerated``."""
    return AlertWatch(stack, STACK_ALERTS - {WATCHDOG, provoked, *tolerated})


RELOAD_GAP = NOT_CONNECTED
"""Tolerated around every successful reload of Prometheus: it rebuilds its Alertmanager
discovery, whose results it takes in every 5 s, so for up to 5 s it knows no Alertmanager
(``prometheus_notifications_alertmanagers_discovered`` 0): longer than this alert's ``for:``
at this time scale (5m x 0.01 = 3 s), never at scale 1."""


def _address(url: str) -> str:
    return url.removeprefix("http://")


def _labelled(alert: dict[str, Any], job: str, instance: str, severity: str) -> None:
    labels = alert["labels"]
    assert (labels["job"], labels["service"], labels["instance"]) == (job, job, instance)
    assert labels["severity"] == severity
    assert alert["annotations"]["summary"]


def _delivered(notification: dict[str, Any], name: str, receiver: str = RECEIVER) -> None:
    assert notification["receiver"] == receiver
    assert notification["runbook_url"].endswith(f"#{name.lower()}")
    assert notification["summary"]


def _rewrite(stack: Stack, component: str, document: dict[str, Any]) -> httpx.Response:
    stack.config_file(component).write_text(yaml.safe_dump(document, sort_keys=False))
    return stack.reload(component)


@contextlib.contextmanager
def _config(stack: Stack, component: str) -> Iterator[dict[str, Any]]:
    """The configuration up wrote for ``component``, as data to change; on leaving, up's file
    is back and reloaded."""
    shipped = stack.config_file(component).read_text()
    try:
        yield yaml.safe_load(shipped)
    finally:
        stack.config_file(component).write_text(shipped)
        reloaded = stack.reload(component)
    assert reloaded.status_code == 200, reloaded.text


def _rule_error(stack: Stack, rule_file: Path) -> str:
    groups = httpx.get(f"{stack.state.prometheus_url}/api/v1/rules", timeout=10).json()
    (rule,) = [
        r for g in groups["data"]["groups"] if g["file"] == str(rule_file) for r in g["rules"]
    ]
    return str(rule["lastError"])


def test_a_rule_failing_at_evaluation_fires_until_it_is_removed(stack: Stack) -> None:
    rule_file = (stack.dir.component("prometheus") / "rules" / "evaluation-fails.yaml").resolve()
    # One `up` per target on each side and no label to match on: many-to-many, an error
    # only evaluation finds (promtool accepts the file).
    rule = {"record": "test:up:many_to_many", "expr": "up + on() up"}
    rule_file.write_text(
        yaml.safe_dump({"groups": [{"name": "evaluation-fails", "rules": [rule]}]})
    )
    code, output = promtool("check", "rules", str(rule_file))
    assert code == 0, output
    group = f"{rule_file};evaluation-fails"
    watch = _watch(stack, RULE_FAILURES, RELOAD_GAP)
    try:
        assert stack.reload("prometheus").status_code == 200
        alert = watch.firing(RULE_FAILURES, rule_group=group)
        _labelled(alert, PROMETHEUS_JOB, _address(stack.state.prometheus_url), "critical")
        _delivered(watch.notified(RULE_FAILURES, "firing", rule_group=group), RULE_FAILURES)
        assert "many-to-many matching not allowed" in _rule_error(stack, rule_file)
    finally:
        rule_file.unlink()
        reloaded = stack.reload("prometheus")
    assert reloaded.status_code == 200, reloaded.text
    watch.ended(RULE_FAILURES, rule_group=group)
    watch.notified(RULE_FAILURES, "resolved", rule_group=group)
    assert watch.loud() == set()


def test_a_rejected_configuration_fires_config_reload_failed_for_each(stack: Stack) -> None:
    instances = {
        PROMETHEUS_JOB: _address(stack.state.prometheus_url),
        ALERTMANAGER_JOB: _address(stack.state.alertmanager_url),
    }
    watch = _watch(stack, *RELOAD_FAILED.values(), RELOAD_GAP)
    with _config(stack, "prometheus") as prometheus, _config(stack, "alertmanager") as manager:
        prometheus["not_a_prometheus_key"] = 1
        rejected = _rewrite(stack, "prometheus", prometheus)
        assert rejected.status_code == 500
        assert "field not_a_prometheus_key not found" in rejected.text
        manager["route"]["receiver"] = "nobody"
        rejected = _rewrite(stack, "alertmanager", manager)
        assert rejected.status_code == 500
        assert 'undefined receiver "nobody"' in rejected.text
        for job, instance in instances.items():
            name = RELOAD_FAILED[job]
            _labelled(watch.firing(name, job=job), job, instance, "warning")
            # Delivered by the configuration each kept: Alertmanager's own rejection too.
            _delivered(watch.notified(name, "firing", job=job), name)
    for job in instances:
        watch.ended(RELOAD_FAILED[job], job=job)
        watch.notified(RELOAD_FAILED[job], "resolved", job=job)
    assert watch.loud() == set()


def test_prometheus_without_alertmanagers_fires_not_connected(stack: Stack) -> None:
    watch = _watch(stack, NOT_CONNECTED)
    with _config(stack, "prometheus") as alone:
        del alone["alerting"]
        assert _rewrite(stack, "prometheus", alone).status_code == 200
        alert = watch.firing(NOT_CONNECTED, job=PROMETHEUS_JOB)
        _labelled(alert, PROMETHEUS_JOB, _address(stack.state.prometheus_url), "critical")
        # Nothing can take it to the receiver: Prometheus knows no Alertmanager to send it to.
        assert [n for n in watch.received() if n["alertname"] == NOT_CONNECTED] == []
    watch.ended(NOT_CONNECTED, job=PROMETHEUS_JOB)
    assert watch.loud() == set()


def test_a_frozen_alertmanager_fires_stack_target_down_in_prometheus(stack: Stack) -> None:
    # A frozen Alertmanager holds each send until Prometheus' 10 s timeout: one error per
    # 10 s, too few for PrometheusNotificationErrors' 4 s window at this time scale (at scale 1
    # its 5m window sees several), so that one may go pending and is neither required nor
    # forbidden here; an Alertmanager that refuses fires it (below).
    watch = _watch(stack, TARGET_DOWN, SEND_ERRORS)
    stack.signal_component("alertmanager", signal.SIGSTOP)
    try:
        alert = watch.firing(TARGET_DOWN, job=ALERTMANAGER_JOB)
        _labelled(alert, ALERTMANAGER_JOB, _address(stack.state.alertmanager_url), "critical")
        # Undeliverable: what the Watchdog's dead-man's switch is for.
        assert [n for n in watch.received() if n["alertname"] == TARGET_DOWN] == []
    finally:
        stack.signal_component("alertmanager", signal.SIGCONT)
    watch.ended(TARGET_DOWN, job=ALERTMANAGER_JOB)
    assert watch.loud() == set()


# --- under the every_alert mark: each takes 20 s or more ---


@pytest.mark.every_alert
def test_an_alertmanager_that_refuses_fires_notification_errors(stack: Stack) -> None:
    watch = _watch(stack, SEND_ERRORS, RELOAD_GAP)
    with refusing_port() as port, _config(stack, "prometheus") as config:
        # Prometheus sends every alert to each Alertmanager it knows: one refuses, the other
        # delivers (this alert too), as when one replica of a pair is down.
        alertmanagers = config["alerting"]["alertmanagers"][0]["static_configs"][0]
        alertmanagers["targets"].append(f"127.0.0.1:{port}")
        dead = f"http://127.0.0.1:{port}/api/v2/alerts"
        assert _rewrite(stack, "prometheus", config).status_code == 200
        alert = watch.firing(SEND_ERRORS, alertmanager=dead)
        _labelled(alert, PROMETHEUS_JOB, _address(stack.state.prometheus_url), "warning")
        _delivered(watch.notified(SEND_ERRORS, "firing", alertmanager=dead), SEND_ERRORS)
    watch.ended(SEND_ERRORS, alertmanager=dead)
    watch.notified(SEND_ERRORS, "resolved", alertmanager=dead)
    assert watch.loud() == set()


PROBES = 5
"""Alerts posted to Alertmanager for the dead webhook, each its own group (``alertname``)."""
PROBE_SPACING_S = 2.0
"""Alertmanager retries a failed delivery until the flush times out, at least 10 s
(``notify.MinTimeout``), and counts one failure then: one group fails once per 10 s, more
rarely than ``AlertmanagerNotificationsFailing``'s 4 s window at this time scale sees. Five
groups begun 2 s apart fail every 2 s."""
ESCALATION = "escalation"


def _probes(ends_at: str | None = None) -> list[dict[str, Any]]:
    ends = {} if ends_at is None else {"endsAt": ends_at}
    return [
        {"labels": {"alertname": f"DeadWebhookProbe{i}", "service": "probe"}} | ends
        for i in range(PROBES)
    ]


def _post(stack: Stack, alerts: list[dict[str, Any]]) -> None:
    response = httpx.post(f"{stack.state.alertmanager_url}/api/v2/alerts", json=alerts, timeout=10)
    response.raise_for_status()


@pytest.mark.every_alert
def test_a_dead_webhook_fires_notifications_failing_on_a_live_route(stack: Stack) -> None:
    watch = _watch(stack, DELIVERY_FAILING)
    with refusing_port() as port, _config(stack, "alertmanager") as config:
        (default,) = [r for r in config["receivers"] if r["name"] == RECEIVER]
        webhook = default["webhook_configs"][0]
        live = webhook["url"]
        # The alert about failing deliveries takes a route of its own, to a receiver that works.
        escalation = {"url": f"{live}/escalation"}
        config["receivers"].append({"name": ESCALATION, "webhook_configs": [escalation]})
        matcher = f'alertname="{DELIVERY_FAILING}"'
        config["route"]["routes"].insert(0, {"receiver": ESCALATION, "matchers": [matcher]})
        webhook["url"] = f"http://127.0.0.1:{port}/alerts"
        try:
            assert _rewrite(stack, "alertmanager", config).status_code == 200
            for i in range(PROBES):
                _post(stack, _probes()[i : i + 1])
                time.sleep(PROBE_SPACING_S)  # pacing the input, see PROBE_SPACING_S
            alert = watch.firing(DELIVERY_FAILING, integration="webhook")
            instance = _address(stack.state.alertmanager_url)
            _labelled(alert, ALERTMANAGER_JOB, instance, "critical")
            active = [
                a["status"]["state"]
                for a in stack.alertmanager_alerts()
                if a["labels"]["alertname"] == DELIVERY_FAILING
            ]
            assert active == ["active"]
            firing = watch.notified(DELIVERY_FAILING, "firing", integration="webhook")
            _delivered(firing, DELIVERY_FAILING, ESCALATION)
            # The Watchdog's own route and receiver still work: the heartbeat keeps coming.
            assert watch.notified(WATCHDOG, "firing")["receiver"] == HEARTBEAT_RECEIVER
            assert {n["receiver"] for n in watch.received()} <= {ESCALATION, HEARTBEAT_RECEIVER}
        finally:
            webhook["url"] = live  # the escalation route stays until the resolution is in
            revived = _rewrite(stack, "alertmanager", config)
            _post(stack, _probes(ends_at=datetime.now(UTC).isoformat()))
        assert revived.status_code == 200, revived.text
        watch.ended(DELIVERY_FAILING, integration="webhook")
        resolved = watch.notified(DELIVERY_FAILING, "resolved", integration="webhook")
        assert resolved["receiver"] == ESCALATION
    assert watch.loud() == set()
