"""``AlertWatch``: what a live ``plexichat-obs up`` stack alerts while one fault is on.

A watch starts before the fault. It waits (bounded) for an alert to fire in Prometheus, to
reach the webhook receiver, to end; and on every look it notes which alerts fired in
Prometheus, so that at the end the test can ask which of the alerts that had to stay quiet
did not (``loud``). Only what *started* during the watch counts (Prometheus' ``activeAt``,
the notification's ``starts_at``): an earlier test's alert whose resolution arrives late is not
this test's noise.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, datetime
from typing import Any

from tests.support.stack import Stack, wait_for

FIRE_S = 90.0
"""Bound on firing: the slowest provocation fires in ~20 s at time scale 0.01."""
END_S = 90.0
"""Bound on ending, in Prometheus or at the receiver."""


def _instant(text: str) -> datetime:
    """An RFC 3339 time from Prometheus or Alertmanager (nanoseconds cut to microseconds)."""
    whole, _, fraction = text.rstrip("Z").partition(".")
    return datetime.fromisoformat(f"{whole}.{(fraction or '0')[:6]}+00:00")


def _has(labels: dict[str, str], wanted: dict[str, str]) -> bool:
    return all(labels.get(k) == v for k, v in wanted.items())


class AlertWatch:
    """Alerts and notifications of ``stack`` from now on; ``quiet`` must never fire."""

    def __init__(self, stack: Stack, quiet: Collection[str]) -> None:
        self.stack = stack
        self.quiet = frozenset(quiet)
        self.start = datetime.now(UTC)
        self._since = len(stack.notifications())
        self.fired: set[str] = set()  # alert names seen firing in Prometheus, started since

    def alerts(self, name: str, **labels: str) -> list[dict[str, Any]]:
        """Prometheus' pending and firing ``name`` alerts with ``labels`` (noting what fires)."""
        alerts = self.stack.prometheus.alerts()
        self.fired |= {
            a["labels"]["alertname"]
            for a in alerts
            if a["state"] == "firing" and _instant(a["activeAt"]) >= self.start
        }
        return [a for a in alerts if a["labels"]["alertname"] == name and _has(a["labels"], labels)]

    def firing(self, name: str, **labels: str) -> dict[str, Any]:
        """Wait for ``name`` with ``labels`` to fire in Prometheus; that alert."""
        found = wait_for(
            lambda: [a for a in self.alerts(name, **labels) if a["state"] == "firing"],
            FIRE_S,
            f"{name} {labels} to fire in Prometheus",
        )
        return dict(found[0])

    def ended(self, name: str, **labels: str) -> None:
        """Wait for ``name`` with ``labels`` to be neither pending nor firing in Prometheus."""
        wait_for(lambda: not self.alerts(name, **labels), END_S, f"{name} {labels} to end")

    def received(self) -> list[dict[str, Any]]:
        """Everything the receiver got since the watch started."""
        return self.stack.notifications()[self._since :]

    def notified(self, name: str, status: str, **labels: str) -> dict[str, Any]:
        """Wait for the receiver to get ``name`` with ``labels`` as ``status``; that record."""

        def arrived() -> list[dict[str, Any]]:
            self.alerts(name)  # keep noting what fires in Prometheus meanwhile
            return [
                n
                for n in self.received()
                if n["alertname"] == name and n["status"] == status and _has(n["labels"], labels)
            ]

        found = wait_for(arrived, END_S, f"the receiver to get {name} {labels} {status}")
        return dict(found[0])

    def loud(self) -> set[str]:
        """The quiet alerts that fired in Prometheus or reached the receiver."""
        notified = {
            n["alertname"] for n in self.received() if _instant(n["starts_at"]) >= self.start
        }
        return (self.fired | notified) & self.quiet
