"""``Notification``: one alert of an Alertmanager webhook delivery, as the receiver keeps it.

Alertmanager POSTs a *group* of alerts at a time (webhook payload version 4: ``status``,
``receiver``, ``groupKey``, ``alerts[]``, each alert with its own ``status``, ``labels``,
``annotations``, ``startsAt``, ``endsAt`` and ``fingerprint``). We keep one record per alert of
a delivery, since that is what a person reads ("PlexichatErrorRateHigh is firing"), with the
delivery's receiver and group key so deliveries can be told apart. Records are JSON lines; one
formatter makes the human line for both ``plexichat-obs receive`` and ``plexichat-obs up``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any


class PayloadError(ValueError):
    """A request body that is not an Alertmanager webhook payload (the message says why)."""


@dataclass(frozen=True)
class Notification:
    """One alert of one webhook delivery."""

    received_at: str
    receiver: str
    group_key: str
    status: str  # firing | resolved
    alertname: str
    severity: str
    service: str
    job: str
    summary: str
    runbook_url: str
    starts_at: str
    ends_at: str
    fingerprint: str
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> str:
        """This notification as one JSON line (no newline)."""
        return json.dumps(asdict(self), sort_keys=True, ensure_ascii=False)

    @classmethod
    def from_json(cls, line: str) -> Notification:
        """The notification :meth:`to_json` wrote."""
        return cls(**json.loads(line))

    def line(self) -> str:
        """``12:00:03 FIRING   PlexichatErrorRateHigh critical plexichat  Error Rate of ...``"""
        clock = self.received_at[11:19]
        return (
            f"{clock} {self.status.upper():<8} {self.alertname} {self.severity or '-'} "
            f"{self.service or '-'}  {self.summary}"
        )


def utc_text(moment: datetime) -> str:
    """``moment`` as the receiver writes times: UTC to the second, ``2026-11-30T12:00:03Z``."""
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _strings(value: Any, where: str) -> dict[str, str]:
    if not isinstance(value, Mapping):
        raise PayloadError(f"{where} must be an object, got {type(value).__name__}")
    return {str(k): str(v) for k, v in value.items()}


def parse(body: bytes, now: datetime | None = None) -> Iterator[Notification]:
    """The notifications in one webhook request body; ``PayloadError`` when it is not one."""
    try:
        payload = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PayloadError(f"body is not JSON: {exc}") from None
    if not isinstance(payload, Mapping) or not isinstance(payload.get("alerts"), list):
        raise PayloadError("body is not an Alertmanager webhook payload (no 'alerts' list)")
    received = utc_text(now or datetime.now(UTC))
    for index, alert in enumerate(payload["alerts"]):
        if not isinstance(alert, Mapping):
            raise PayloadError(f"alerts[{index}] must be an object")
        labels = _strings(alert.get("labels", {}), f"alerts[{index}].labels")
        annotations = _strings(alert.get("annotations", {}), f"alerts[{index}].annotations")
        yield Notification(
            received_at=received,
            receiver=str(payload.get("receiver", "")),
            group_key=str(payload.get("groupKey", "")),
            status=str(alert.get("status", payload.get("status", ""))),
            alertname=labels.get("alertname", ""),
            severity=labels.get("severity", ""),
            service=labels.get("service", ""),
            job=labels.get("job", ""),
            summary=annotations.get("summary", ""),
            runbook_url=annotations.get("runbook_url", ""),
            starts_at=str(alert.get("startsAt", "")),
            ends_at=str(alert.get("endsAt", "")),
            fingerprint=str(alert.get("fingerprint", "")),
            labels=labels,
            annotations=annotations,
        )
