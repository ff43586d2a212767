"""Alertmanager's configuration file and command-line flags, as data, for one ``StackTarget``.

Routing (the chart's shape, for every target): one ``default`` receiver gets every alert,
grouped by ``alertname`` and ``service`` (every generated alert carries ``service``), and
notifies the webhook when the target has one (``send_resolved``, so people hear when it is
over). Inhibition: while a critical alert fires, the warning of the same alert and service is
held back; the SLO burn-rate alerts are such pairs (the page and the ticket of one SLO).
Alertmanager runs as a single replica: ``--cluster.listen-address=`` turns gossip off.
"""

from __future__ import annotations

from typing import Any

from plexichat.generate.stack.targets import StackTarget

RECEIVER = "default"
GROUP_BY = ("alertname", "service")


def _receiver(webhook_url: str | None) -> dict[str, Any]:
    entry: dict[str, Any] = {"name": RECEIVER}
    if webhook_url is not None:
        entry["webhook_configs"] = [{"url": webhook_url, "send_resolved": True}]
    return entry


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
        },
        "receivers": [_receiver(target.webhook_url)],
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
