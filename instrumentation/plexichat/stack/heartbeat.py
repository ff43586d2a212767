"""``Heartbeat``: whether the Watchdog's heartbeat reaches its receiver, as ``status`` judges it.

The always-firing ``Watchdog`` goes on its own route to the receiver ``watchdog`` every
heartbeat interval I (``plexichat.generate.stack.alertmanager``). That route's group interval
is I/2 and Alertmanager re-sends only at a group tick, so a healthy heartbeat comes at most
1.5 I after the last one. It is **late**, and alerting broken, when

- its last arrival is older than ``2 I + GRACE_S``; or
- none arrived although the Watchdog has fired in Prometheus, and the receiver listened, for
  longer than ``2 I + GRACE_S + RESEND_DELAY_S``: Prometheus drops the alerts it evaluates
  before it has discovered Alertmanager and sends them again only after its resend delay, so
  the first heartbeat of a fresh stack may come that much later.

The issue's "two group intervals" are read as two heartbeat intervals (four of the route's
group intervals): with two group intervals, a healthy heartbeat 1.5 I apart would be late.

Arrival times come from the receiver's ``GET /arrivals`` (``plexichat.stack.arrivals``) and
are measured against the receiver's own clock; only how long the Watchdog has fired is
measured against ours (Prometheus' ``activeAt``). States: ``not checked`` (no receiver to ask:
in production the dead-man's switch the Watchdog goes to is the judge), ``unreachable`` (the
receiver could not be asked), ``arrived``, ``none yet`` (not late yet), ``late``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime

import httpx

from plexichat.generate.stack.alertmanager import HEARTBEAT_RECEIVER
from plexichat.generate.watchers import WATCHDOG
from plexichat.stack.arrivals import ARRIVALS_PATH, ArrivalsError, ArrivalsReport
from plexichat.stack.notifications import utc_text

GRACE_S = 5.0
"""Beyond two intervals: a delivery's round trip, and arrival times kept to the second."""
RESEND_DELAY_S = 60.0
"""Prometheus' ``--rules.alert.resend-delay`` default, which no target of ours changes."""
TIMEOUT_S = 5.0
"""How long ``status`` waits for the receiver's answer."""


@dataclass(frozen=True)
class Heartbeat:
    """The Watchdog's heartbeat at the receiver: last arrival, its age, and whether it is late.

    ``age_s`` is the seconds since the last arrival; when none arrived, since the wait for the
    first began (the later of the Watchdog firing and the receiver listening), or ``None``
    while the Watchdog does not fire."""

    state: str  # not checked | unreachable | arrived | none yet | late
    receiver: str | None = None  # the receiver's base URL, asked at /arrivals
    interval_s: float | None = None  # the heartbeat interval
    late_after_s: float | None = None  # 2 intervals and the grace
    last_arrival: str | None = None  # UTC, the receiver's clock
    age_s: float | None = None
    late: bool = False
    error: str | None = None  # why the receiver could not be asked

    @property
    def unreachable(self) -> bool:
        """Whether a receiver was to be asked and could not be."""
        return self.state == "unreachable"


NOT_CHECKED = Heartbeat("not checked")


def late_after(interval_s: float) -> float:
    """How old the last heartbeat may be before it is late: two intervals and the grace."""
    return 2 * interval_s + GRACE_S


def judge(
    receiver: str,
    report: ArrivalsReport,
    interval_s: float,
    firing_since: datetime | None,
    now: datetime,
) -> Heartbeat:
    """The heartbeat in ``report`` every ``interval_s``, for a Watchdog firing in Prometheus
    since ``firing_since`` (``None``: it does not fire) as of ``now`` (our clock)."""
    limit = late_after(interval_s)
    base = Heartbeat("none yet", receiver, interval_s, limit)
    last = report.last_arrival(HEARTBEAT_RECEIVER, WATCHDOG)
    if last is not None:
        age = max(0.0, (report.now - last).total_seconds())
        late = age > limit
        state = "late" if late else "arrived"
        return replace(base, state=state, last_arrival=utc_text(last), age_s=age, late=late)
    if firing_since is None:
        return base
    listening = (report.now - report.started).total_seconds()
    waited = max(0.0, min(listening, (now - firing_since).total_seconds()))
    late = waited > limit + RESEND_DELAY_S
    return replace(base, state="late" if late else "none yet", age_s=waited, late=late)


def _since(active_at: str | None) -> datetime | None:
    return datetime.fromisoformat(active_at) if active_at else None


def check(
    receiver: str | None,
    interval_s: float,
    watchdog_since: str | None,
    timeout_s: float = TIMEOUT_S,
) -> Heartbeat:
    """Ask ``receiver`` (a base URL; ``None``: nothing to ask) for its arrivals and judge the
    heartbeat of a Watchdog firing since ``watchdog_since`` (Prometheus' ``activeAt``)."""
    if receiver is None:
        return NOT_CHECKED
    url = receiver.rstrip("/") + ARRIVALS_PATH
    try:
        response = httpx.get(url, timeout=timeout_s)
        response.raise_for_status()
        report = ArrivalsReport.from_json(response.content)
    except (httpx.HTTPError, ArrivalsError) as exc:
        error = f"{url}: {exc or type(exc).__name__}"
        return Heartbeat("unreachable", receiver, interval_s, late_after(interval_s), error=error)
    return judge(receiver, report, interval_s, _since(watchdog_since), datetime.now(UTC))
