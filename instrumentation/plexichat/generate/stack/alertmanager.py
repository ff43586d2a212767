"""Alertmanager's configuration file and command-line flags, as data, for one ``StackTarget``.

Routing (the chart's shape, for every target): one ``default`` receiver gets every alert,
grouped by ``alertname`` and ``service`` (every generated alert carries ``service``), and
notifies the webhook when the target has one (``send_resolved``, so people hear when it is
over). The one exception is the always-firing ``Watchdog`` (``plexichat.generate.watchers``):
its own route sends it, and nothing else, to the ``watchdog`` receiver every
``heartbeat_interval``, for an external dead-man's switch that pages when the heartbeat
*stops* -- the only alert that still works when Prometheus, Alertmanager or the way between
them is dead. That receiver never sends ``resolved``: a dead-man's switch counts any request
as a heartbeat, and Alertmanager resolves the Watchdog by itself once Prometheus stops
re-sending it. Inhibition: while a critical alert fires, the warning of the same alert and
service is held back; the SLO burn-rate alerts are such pairs (the page and the ticket of one
SLO). The Watchdog (severity ``none``) neither inhibits nor is inhibited.
Alertmanager runs as a single replica: ``--cluster.listen-address=`` turns gossip off.
"""

from __future__ import annotations

from typing import Any

from plexichat.generate import promql
from plexichat.generate.stack.targets import StackTarget
from plexichat.generate.watchers import WATCHDOG

RECEIVER = "default"
HEARTBEAT_RECEIVER = "watchdog"
GROUP_BY = ("alertname", "service")


def _receiver(name: str, webhook_url: str | None, send_resolved: bool) -> dict[str, Any]:
    entry: dict[str, Any] = {"name": name}
    if webhook_url is not None:
        entry["webhook_configs"] = [{"url": webhook_url, "send_resolved": send_resolved}]
    return entry


def heartbeat_route(target: StackTarget) -> dict[str, Any]:
    """The Watchdog's route: its own receiver, re-sent every ``heartbeat_interval``.

    Alertmanager only re-sends at a group interval's tick, so the group interval is half the
    heartbeat's: a heartbeat is then at most 1.5 of its intervals late, never two."""
    heartbeat = target.timing.heartbeat_interval
    return {
        "receiver": HEARTBEAT_RECEIVER,
        "matchers": [f'alertname="{WATCHDOG}"'],
        "group_wait": "0s",
        "group_interval": promql.duration(promql.seconds(heartbeat) / 2),
        "repeat_interval": heartbeat,
    }


def config(target: StackTarget) -> dict[str, Any]:
    """``alertmanager.yml`` for ``target``, as data (see the module docstring for routing and
    inhibition)."""
    timing = target.timing
    return {
        "route": {
            "receiver": RECEIVER,
            "group_by": list(GROUP_BY),
            "group_wait": timing.group_wait,
            "group_interval": timing.group_interval,
            "repeat_interval": timing.repeat_interval,
            "routes": [heartbeat_route(target)],
        },
        "receivers": [
            _receiver(RECEIVER, target.webhook_url, send_resolved=True),
            _receiver(HEARTBEAT_RECEIVER, target.heartbeat_url, send_resolved=False),
        ],
        "inhibit_rules": [
            {
                "source_matchers": ['severity="critical"'],
                "target_matchers": ['severity="warning"'],
                "equal": list(GROUP_BY),
            }
        ],
    }


def flags(target: StackTarget) -> list[str]:
    """Alertmanager's command-line flags for ``target``."""
    args = [
        f"--config.file={target.alertmanager_config_file}",
        f"--storage.path={target.alertmanager_storage}",
    ]
    if target.alertmanager_listen is not None:
        args.append(f"--web.listen-address={target.alertmanager_listen}")
    args.append("--cluster.listen-address=")  # one replica: no gossip cluster
    return args
