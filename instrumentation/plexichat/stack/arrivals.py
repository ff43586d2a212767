"""``Arrivals``: when the webhook receiver last got each alert, and the JSON it answers with.

The receiver (``plexichat-obs receive``) records, per Alertmanager receiver, alert name and
status, when the last notification of it arrived, and answers ``GET /arrivals`` with::

    {"now": "2026-12-01T10:00:23Z", "started": "2026-12-01T09:58:00Z",
     "last": {"watchdog": {"Watchdog": {"firing": "2026-12-01T10:00:15Z"}}}}

``now``, ``started`` (when it began listening) and the arrival times are all the receiver's
own clock, so a reader measures ages against ``now``, never against its own clock. The record
lives in memory, since the receiver started (``notifications.jsonl`` keeps the history across
restarts). ``status`` reads it to judge the Watchdog's heartbeat (``plexichat.stack.heartbeat``);
any receiver that answers this JSON can be asked.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from plexichat.stack.notifications import Notification, utc_text

ARRIVALS_PATH = "/arrivals"

Last = dict[str, dict[str, dict[str, datetime]]]
"""receiver -> alertname -> status (firing | resolved) -> when the last one arrived."""


class ArrivalsError(ValueError):
    """A body that is not an arrivals report (the message names the key)."""


def _time(value: Any, key: str) -> datetime:
    if not isinstance(value, str):
        raise ArrivalsError(f"'{key}' must be a UTC time string, got {value!r}")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ArrivalsError(f"'{key}' is not an ISO 8601 time: {value!r}") from None
    if moment.tzinfo is None:
        raise ArrivalsError(f"'{key}' has no time zone: {value!r}")
    return moment


def _object(value: Any, key: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ArrivalsError(f"'{key}' must be an object, got {type(value).__name__}")
    return value


@dataclass(frozen=True)
class ArrivalsReport:
    """One answer of ``GET /arrivals``: the receiver's clock, its start and the last arrivals."""

    now: datetime
    started: datetime
    last: Last

    def last_arrival(
        self, receiver: str, alertname: str, status: str = "firing"
    ) -> datetime | None:
        """When the last ``status`` notification of ``alertname`` reached ``receiver``; ``None``:
        none since the receiver started."""
        return self.last.get(receiver, {}).get(alertname, {}).get(status)

    def to_json(self) -> str:
        """The report as the receiver sends it."""
        last = {
            receiver: {
                name: {status: utc_text(moment) for status, moment in by_status.items()}
                for name, by_status in by_name.items()
            }
            for receiver, by_name in self.last.items()
        }
        data = {"now": utc_text(self.now), "started": utc_text(self.started), "last": last}
        return json.dumps(data, sort_keys=True)

    @classmethod
    def from_json(cls, body: bytes | str) -> ArrivalsReport:
        """The report in ``body``; ``ArrivalsError`` naming the key when it is not one."""
        try:
            data = _object(json.loads(body), "(the body)")
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ArrivalsError(f"the body is not JSON: {exc}") from None
        last: Last = {}
        for receiver, by_name in _object(data.get("last", {}), "last").items():
            for name, by_status in _object(by_name, f"last.{receiver}").items():
                key = f"last.{receiver}.{name}"
                last.setdefault(receiver, {})[name] = {
                    status: _time(moment, f"{key}.{status}")
                    for status, moment in _object(by_status, key).items()
                }
        return cls(_time(data.get("now"), "now"), _time(data.get("started"), "started"), last)


def _utc_now() -> datetime:
    return datetime.now(UTC)


class Arrivals:
    """The receiver's record of the last arrivals, since it started; safe across threads.

    Args:
        clock: The receiver's clock (UTC); a parameter so tests can set the time.
    """

    def __init__(self, clock: Callable[[], datetime] = _utc_now) -> None:
        self._clock = clock
        self.started = clock()
        self._last: Last = {}
        self._lock = threading.Lock()

    def record(self, notification: Notification) -> None:
        """Note that ``notification`` arrived (at its ``received_at``)."""
        moment = datetime.fromisoformat(notification.received_at)
        with self._lock:
            by_name = self._last.setdefault(notification.receiver, {})
            by_name.setdefault(notification.alertname, {})[notification.status] = moment

    def report(self) -> ArrivalsReport:
        """The last arrivals as of now."""
        with self._lock:
            last = {r: {n: dict(s) for n, s in names.items()} for r, names in self._last.items()}
        return ArrivalsReport(self._clock(), self.started, last)
