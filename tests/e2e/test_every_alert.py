"""Every alert we ship, provoked on a live ``plexichat-obs up`` stack, seen firing at the webhook
receiver and then resolved: each catalog alert (the guide's table and background tasks
failing), the SLO pages, service down, service absent and series overflow. The dependencies'
alerts and the alerting path's own are provoked in their own files (``NOT_PROVOKED_HERE``).

Time runs 100 times faster (``--time-scale 0.01``: a ``for: 5m`` is 3 s, rate windows at least
4 s). Each step flips the service's runtime fault switch (``plexichat-obs fault``) or takes an
action, waits for the step's alerts to reach the receiver as ``firing``, undoes it, and waits
for ``resolved`` of every alert that fired. Two stacks: the development profile at 40 req/s for
everything but the throughput floor, which the development profile switches off; that one runs
on the guide's table at 600 req/s and fires when the traffic stops.

Marked ``every_alert``: it takes 3 to 4 minutes (158-221 s on a 2-CPU machine), so
``scripts/test`` leaves it out of the default run; ``scripts/test -m every_alert`` runs it. The
CPU step needs the machine's CPUs mostly to itself (``cpu_burn`` must lift the service above
85 % of all of them).
"""

from __future__ import annotations

import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from plexichat.catalog import load_catalog
from plexichat.generate import Options, dependencies
from plexichat.generate.rules import (
    REQUESTS_ABSENT,
    SERIES_OVERFLOW,
    SERVICE_ABSENT,
    SERVICE_DOWN,
    alert_name,
)
from plexichat.generate.watchers import for_options, stack_watchers
from plexichat.generate.writer import rule_texts
from tests.support.stack import Stack, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.every_alert]

FIRE_S = 90.0
RESOLVE_S = 120.0
SERVICE_ENV = {
    # Small enough that memory_fill can reach 90 % quickly, large enough for the service.
    "PLEXICHAT_PERFORMANCE__RESOURCE_LIMITS__MAX_MEMORY_USAGE": "320MB",
    # Normal traffic uses a few dozen label sets per metric; spread statuses overflow this.
    "PLEXICHAT_PERFORMANCE__OBSERVABILITY__SERIES_LIMIT": "80",
    # Failing background tasks give up at once instead of after 3 retries 5 s apart.
    "PLEXICHAT_PERFORMANCE__BACKGROUND_TASKS__RETRY_DELAY": "0",
}


NOT_PROVOKED_HERE = {w.name for w in stack_watchers(Options())} | {
    d.name for d in for_options(dependencies.KIND, Options())
}
"""Provoked live elsewhere, each on a stack of its own. The alerting path's own alerts
(alerts/stack.yaml) in tests/e2e/test_watchers.py: the Watchdog at its receiver, a rule failing
at evaluation, rejected configurations, no Alertmanager, a frozen one (the normal suite), an
Alertmanager that refuses and a dead webhook (there, under this file's ``every_alert`` mark).
The dependencies' alerts (alerts/dependencies.yaml) in tests/e2e/test_dependencies.py: a
maxmemory just above Redis' use, maxclients one above / below its connections, Redis killed.
PostgreSQL's are generated only for a stack that runs it (not this one): they are provoked in
tests/e2e/test_postgres_exporter.py (connections held past the threshold, a real deadlock,
PostgreSQL killed)."""


def shipped_alerts(options: Options) -> set[str]:
    return {
        rule["alert"]
        for text in rule_texts(options).values()
        for group in yaml.safe_load(text)["groups"]
        for rule in group["rules"]
        if "alert" in rule
    }


def _catalog_alert(entry_id: str, profile: str | None) -> str:
    resolved = load_catalog()[entry_id].thresholds(profile)
    assert resolved.alert is not None, entry_id
    return alert_name(load_catalog()[entry_id], resolved.alert.op)


class Steps:
    """Provoke, see firing, undo, see resolved; records which alerts were proven."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.proven: set[str] = set()

    def _new(self, since: int) -> list[dict[str, Any]]:
        return self.stack.notifications()[since:]

    def prove(
        self, alerts: list[str], provoke: Callable[[], None], undo: Callable[[], None]
    ) -> None:
        since = len(self.stack.notifications())
        provoke()
        fired: dict[str, set[str]] = {}

        def all_fired() -> bool:
            for n in self._new(since):
                critical_or_catalog = n["severity"] == "critical" or "slo" not in n["labels"]
                if n["status"] == "firing" and n["alertname"] in alerts and critical_or_catalog:
                    fired.setdefault(n["alertname"], set()).add(n["fingerprint"])
            return set(alerts) <= set(fired)

        try:
            wait_for(all_fired, FIRE_S, f"{alerts} firing at the receiver (got {sorted(fired)})")
        finally:
            undo()

        def all_resolved() -> set[str]:
            done = {n["fingerprint"] for n in self._new(since) if n["status"] == "resolved"}
            waiting = {fp for prints in fired.values() for fp in prints} - done
            return waiting

        wait_for(lambda: not all_resolved(), RESOLVE_S, f"{alerts} resolved at the receiver")
        for name in alerts:
            firing = next(n for n in self._new(since) if n["alertname"] == name)
            assert firing["runbook_url"].endswith(f"#{name.lower()}")
            assert firing["summary"]
            assert firing["job"] == firing["service"] == "plexichat"
        self.proven |= set(alerts)

    def fault(self, spec: str) -> Callable[[], None]:
        def flip() -> None:
            result = self.stack.cli("fault", spec)
            assert result.returncode == 0, result.stderr

        return flip


@pytest.fixture(scope="module")
def development(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    stack = Stack(
        tmp_path_factory.mktemp("every-alert"),
        ["--traffic", "40", "--time-scale", "0.01"],
        env=SERVICE_ENV,
    )
    try:
        yield stack
    finally:
        assert stack.stop() == 0


def test_every_development_alert_fires_and_resolves_at_the_receiver(development: Stack) -> None:
    steps = Steps(development)
    off = steps.fault("off")
    dev = "development"
    steps.prove(
        [
            _catalog_alert("response_time", dev),
            _catalog_alert("request_latency", dev),
            "PlexichatLatencyBudgetBurn",
        ],
        steps.fault("latency_ms=2500"),  # past the development profile's 2 s
        off,
    )
    steps.prove(
        [_catalog_alert("error_rate", dev), "PlexichatAvailabilityBudgetBurn"],
        steps.fault("error_rate=0.5"),
        off,
    )
    steps.prove([_catalog_alert("db_query_time", dev)], steps.fault("db_latency_ms=300"), off)
    steps.prove([_catalog_alert("cache_hit_ratio", dev)], steps.fault("cache_miss_rate=1.0"), off)
    steps.prove([_catalog_alert("cpu_usage", dev)], steps.fault("cpu_burn=1.0"), off)
    steps.prove([_catalog_alert("memory_usage", dev)], steps.fault("memory_fill=0.97"), off)
    steps.prove([SERIES_OVERFLOW], steps.fault("error_rate=1.0,spread_statuses=true"), off)
    steps.prove(["PlexichatBackgroundTasksFailing"], steps.fault("task_failure_rate=1.0"), off)
    steps.prove(
        [SERVICE_DOWN],
        lambda: development.signal_component("service", signal.SIGSTOP),
        lambda: development.signal_component("service", signal.SIGCONT),
    )
    config = development.config_file("prometheus")
    shipped = config.read_text()

    def lose_the_job() -> None:
        document = yaml.safe_load(shipped)
        document["scrape_configs"] = [
            job for job in document["scrape_configs"] if job["job_name"] != "plexichat"
        ]
        config.write_text(yaml.safe_dump(document))
        development.reload("prometheus").raise_for_status()

    def restore() -> None:
        config.write_text(shipped)
        development.reload("prometheus").raise_for_status()

    steps.prove([SERVICE_ABSENT], lose_the_job, restore)

    def drop_the_request_counter() -> None:  # scraped, up == 1, but no request series
        document = yaml.safe_load(shipped)
        (job,) = (j for j in document["scrape_configs"] if j["job_name"] == "plexichat")
        job["metric_relabel_configs"] = [
            {
                "source_labels": ["__name__"],
                "regex": "http_server_request_duration_seconds_count",
                "action": "drop",
            }
        ]
        config.write_text(yaml.safe_dump(document))
        development.reload("prometheus").raise_for_status()

    steps.prove([REQUESTS_ABSENT], drop_the_request_counter, restore)

    # Every alert rule the stack loaded (the development profile has no throughput floor), but
    # the alerting path's own (NOT_PROVOKED_HERE).
    assert shipped_alerts(Options.for_profile(dev)) - steps.proven == NOT_PROVOKED_HERE


def test_the_throughput_floor_fires_when_traffic_stops(tmp_path: Path) -> None:
    stack = Stack(tmp_path, ["--profile", "none", "--traffic", "600", "--time-scale", "0.01"])
    try:
        name = _catalog_alert("throughput", None)

        def quiet_for_a_while() -> bool:
            if stack.alerts(name):
                return False
            time.sleep(3)
            return not stack.alerts(name)

        wait_for(quiet_for_a_while, 90, f"600 req/s to keep {name} quiet")
        steps = Steps(stack)
        steps.prove(
            [name],
            lambda: stack.signal_component("loadgen", signal.SIGSTOP),
            lambda: stack.signal_component("loadgen", signal.SIGCONT),
        )
    finally:
        assert stack.stop() == 0
