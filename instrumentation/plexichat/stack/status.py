"""``plexichat-obs status``: the guide's Core Performance Metrics table, live from Prometheus.

For each catalog entry, its current value comes from the entry's own PromQL (the expression the
Overview dashboard's stat and the alert rule read, over the rules' window for the stack's time
scale), shown in the entry's display unit beside the profile's target and alert threshold.
Its state is, most serious first: ``firing`` or ``pending`` (an alert labelled with the entry's
``metric`` is, in Prometheus), ``misses target``, ``meets target``, or ``no data`` (no sample:
no traffic in the window, see the catalog's empty-data policy). Where an entry has a sample
per instance (CPU, memory), the worst one counts. A quantile's row (an entry with
``quantile``, the TTFB p95) also says which histogram answered: ``native`` where Prometheus
stores the instrument's native histogram (scraped over protobuf; its quantile is not bounded
by the classic buckets), else ``classic`` (interpolated inside the bucket that holds it). One
more query tells: the native histogram's rate alone, per label set of the value.

Also: how much of each SLO's error budget is left over the SLO window (the recorded
``…:ratio_rate<window>`` over the budget), every firing alert with its runbook link, and
whether the always-firing ``Watchdog`` fires (Prometheus loads and evaluates the rules, so the
heartbeat leaves for Alertmanager). Whether the heartbeat *arrives* is the ``heartbeat``
(``plexichat.stack.heartbeat``), which ``status`` adds from the receiver. The Watchdog is not
among the alerts: it is no problem, its absence is. ``Status.critical_firing`` is what the exit
status reports, so a pipeline can gate on it; ``Status.alerting_broken`` is what ``--check``
reports besides.
"""

from __future__ import annotations

import operator
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

from plexichat.catalog import MetricEntry
from plexichat.generate import Options, promql, slo
from plexichat.generate.watchers import WATCHDOG
from plexichat.stack.heartbeat import NOT_CHECKED, Heartbeat
from plexichat.stack.prometheus_api import PrometheusAPI, Sample

Histogram = Literal["native", "classic"]
"""Which histogram a quantile was taken of: the native one, or the classic ``_bucket`` series."""
SEVERITY_ORDER = {"critical": 0, "warning": 1}
_OPS = {"<": operator.lt, ">": operator.gt}


@dataclass(frozen=True)
class MetricStatus:
    """One row of the table: a catalog entry's value, thresholds and state."""

    id: str
    name: str
    statistic: str  # which statistic over which window: "5m p95 TTFB", "1m rate"
    value: float | None  # in the PromQL's unit (value_unit); None: no data
    display: str  # in the display unit
    instances: int
    target: str
    alert: str
    state: str  # firing | pending | misses target | meets target | no data
    histogram: Histogram | None = None  # which one a quantile is from; None: no quantile, no data


@dataclass(frozen=True)
class BudgetStatus:
    """How much of one SLO's error budget is left over its window."""

    slo: str
    objective: str
    window: str
    left: float | None  # share of the error budget left; negative: overspent; None: no data


@dataclass(frozen=True)
class AlertStatus:
    """One pending or firing alert."""

    alertname: str
    severity: str
    state: str
    summary: str
    runbook_url: str
    active_since: str


@dataclass(frozen=True)
class Status:
    """One look at Prometheus: the table, the SLO budgets and the active alerts; and at the
    receiver: the heartbeat."""

    prometheus: str
    profile: str | None
    time_scale: float
    evaluated_at: float
    metrics: list[MetricStatus]
    budgets: list[BudgetStatus]
    alerts: list[AlertStatus]  # firing, the Watchdog left out
    watchdog_since: str | None = None  # when the Watchdog started firing; None: it does not
    heartbeat: Heartbeat = NOT_CHECKED

    @property
    def critical_firing(self) -> bool:
        """Whether a critical alert fires (the exit status reports it; the Watchdog, severity
        ``none``, never counts)."""
        return any(a.state == "firing" and a.severity == "critical" for a in self.alerts)

    @property
    def watchdog_firing(self) -> bool:
        """Whether the Watchdog fires: Prometheus evaluates the rules and sends the heartbeat."""
        return self.watchdog_since is not None

    @property
    def alerting_broken(self) -> bool:
        """Whether no alert can reach anyone: the Watchdog does not fire, or its heartbeat is
        late at the receiver."""
        return not self.watchdog_firing or self.heartbeat.late

    def to_dict(self) -> dict[str, Any]:
        """The status as JSON-ready data, ``critical_firing``, ``watchdog_firing`` and
        ``alerting_broken`` included."""
        data = asdict(self)
        data["critical_firing"] = self.critical_firing
        data["watchdog_firing"] = self.watchdog_firing
        data["alerting_broken"] = self.alerting_broken
        return data


def _display(entry: MetricEntry, value: float) -> str:
    return f"{value * entry.scale:.3g} {entry.display_unit}"


def _worst(samples: list[Sample], op: str) -> Sample | None:
    found = [s for s in samples if s.value == s.value]  # NaN is no data
    if not found:
        return None
    return (max if op == ">" else min)(found, key=lambda s: s.value)


def _histogram(
    entry: MetricEntry, worst: Sample | None, native: Sequence[Sample]
) -> Histogram | None:
    """Which histogram answered a quantile: ``native`` where the native half counts the very
    label set of the value shown, else ``classic``; ``None`` for another statistic or no data."""
    if entry.quantile is None or worst is None:
        return None
    return "native" if any(s.labels == worst.labels for s in native) else "classic"


def metric_status(
    entry: MetricEntry,
    options: Options,
    samples: list[Sample],
    alert_states: set[str],
    native: Sequence[Sample] = (),
) -> MetricStatus:
    """The row of ``entry`` from its ``samples`` (the worst instance counts) and the states of
    its alerts; for a quantile, ``native`` is what its native histogram alone counts (see
    ``native_samples``)."""
    thresholds = options.thresholds(entry)
    target, alert = thresholds.target, thresholds.alert
    worst = _worst(samples, alert.op if alert is not None else ("<" if target.op == ">" else ">"))
    value = worst.value if worst is not None else None
    if "firing" in alert_states:
        state = "firing"
    elif "pending" in alert_states:
        state = "pending"
    elif value is None:
        state = "no data"
    elif _OPS[target.op](value, target.value):
        state = "meets target"
    else:
        state = "misses target"
    alert_text = "off in this profile"
    if alert is not None:
        alert_text = (
            f"{alert.op} {promql.display(entry, alert.value)} for {options.hold(alert.for_)}"
        )
    return MetricStatus(
        id=entry.id,
        name=entry.guide_name,
        statistic=(
            f"{options.window(entry.window)} {entry.statistic}"
            if entry.window is not None
            else entry.statistic
        ),
        value=value,
        display=_display(entry, value) if value is not None else "no data",
        instances=len(samples),
        target=f"{target.op} {promql.display(entry, target.value)}",
        alert=alert_text,
        state=state,
        histogram=_histogram(entry, worst, native),
    )


def native_samples(
    api: PrometheusAPI, entry: MetricEntry, window: str | None, selector: str, samples: list[Sample]
) -> list[Sample]:
    """What the native histogram of a quantile entry's instrument alone counts over ``window``,
    per label set of its ``samples``: one query, none where the answer needs none (another
    statistic, no value; an instrument without native buckets only has classic ones)."""
    instrument = entry.instrument
    if entry.quantile is None or instrument.native is None or window is None or not samples:
        return []
    by = tuple(sorted(samples[0].labels))  # the query's grouping: by (job)
    return api.query(promql.native_rate(instrument.prometheus_series, selector, window, by))


def collect(api: PrometheusAPI, options: Options) -> Status:
    """One look at Prometheus: every catalog entry, both SLO budgets, the active alerts."""
    active = api.alerts()
    by_metric: dict[str, set[str]] = {}
    for alert in active:
        metric = alert["labels"].get("metric")
        if metric is not None:
            by_metric.setdefault(metric, set()).add(alert["state"])
    metrics = []
    for entry in options.catalog:
        window = options.window(entry.window) if entry.window is not None else None
        samples = api.query(entry.query(window, selector=options.selector))
        native = native_samples(api, entry, window, options.selector, samples)
        states = by_metric.get(entry.id, set())
        metrics.append(metric_status(entry, options, samples, states, native))
    budgets = []
    for objective in slo.slos(options):
        bad = api.query(f"{objective.sli(options.slo_window)}{{{options.selector}}}")
        worst = _worst(bad, ">")
        budgets.append(
            BudgetStatus(
                slo=objective.name,
                objective=objective.description,
                window=options.slo_window,
                left=None if worst is None else 1 - worst.value / objective.budget,
            )
        )
    alerts = sorted(
        (
            AlertStatus(
                alertname=a["labels"].get("alertname", ""),
                severity=a["labels"].get("severity", ""),
                state=a["state"],
                summary=a.get("annotations", {}).get("summary", ""),
                runbook_url=a.get("annotations", {}).get("runbook_url", ""),
                active_since=a.get("activeAt", ""),
            )
            for a in active
            if a["state"] == "firing" and a["labels"].get("alertname") != WATCHDOG
        ),
        key=lambda a: (SEVERITY_ORDER.get(a.severity, 9), a.alertname),
    )
    watchdog = [
        a.get("activeAt", "")
        for a in active
        if a["state"] == "firing" and a["labels"].get("alertname") == WATCHDOG
    ]
    return Status(
        prometheus=api.url,
        profile=options.profile,
        time_scale=options.time_scale,
        evaluated_at=time.time(),
        metrics=metrics,
        budgets=budgets,
        alerts=alerts,
        watchdog_since=min(watchdog) if watchdog else None,
    )
