"""The stack configuration files ``plexichat-obs generate`` writes for the bundles.

Compose mounts ``compose/prometheus/prometheus.yml`` and ``compose/alertmanager/alertmanager.yml``
and takes each program's command line from ``command.yml`` beside it (``extends`` in
``docker-compose.yml``); its jobs ``postgres`` and ``node`` read their target from
``postgres.targets.yaml`` and ``node.targets.yaml``, which only ``docker-compose.postgres.yml``
and ``docker-compose.node.yml`` mount, so either, both or none apply. The chart reads
``files/prometheus/`` and ``files/alertmanager/`` with ``.Files.Get`` and merges in its
templates only what depends on its values (jobs ``postgres`` and ``node`` among them).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from plexichat.generate import banner
from plexichat.generate.node import NODE_JOB
from plexichat.generate.postgres import POSTGRES_JOB
from plexichat.generate.stack import alertmanager, prometheus
from plexichat.generate.stack.targets import (
    COMPOSE,
    HELM,
    StackTarget,
)

HELM_FILES = Path("helm/plexichat-observability/files")
DIRECTORIES = (
    Path("compose/prometheus"),
    Path("compose/alertmanager"),
    HELM_FILES / "prometheus",
    HELM_FILES / "alertmanager",
)
"""Where these files go (the writer looks there for leftovers)."""


def _yaml(data: Any, target: StackTarget, about: str) -> str:
    header = f"# {banner.stack_text(target.name)}\n"
    header += "".join(f"# {line}\n" for line in about.splitlines())
    return header + yaml.safe_dump(data, sort_keys=False, width=1000)


def _command(service: str, args: list[str]) -> dict[str, Any]:
    return {"services": {service: {"command": args}}}


def render() -> dict[str, str]:
    """``{path relative to the repository: text}`` of every stack configuration file."""
    compose, helm = Path("compose"), HELM_FILES
    return {
        (compose / "prometheus" / "prometheus.yml").as_posix(): _yaml(
            prometheus.config(COMPOSE),
            COMPOSE,
            "Prometheus of the Compose stack: scrapes the service (its native histograms\n"
            "and their classic series), itself, Alertmanager and redis_exporter every 15 s,\n"
            "postgres_exporter and node_exporter where their overrides mount their targets\n"
            "files, and evaluates the generated rules (../../alerts mounted at rules/, an\n"
            "override's at optional/).",
        ),
        **{
            (compose / "prometheus" / prometheus.targets_file(job)).as_posix(): _yaml(
                prometheus.targets(job, address),
                COMPOSE,
                f"The target of Prometheus' job {job} in the Compose stack (file_sd):\n"
                f"docker-compose.{job}.yml mounts it beside prometheus.yml; without it the\n"
                "job has no target.",
            )
            for job, address in (
                (POSTGRES_JOB, COMPOSE.postgres_exporter_address),
                (NODE_JOB, COMPOSE.node_exporter_address),
            )
            if address is not None
        },
        (compose / "prometheus" / "command.yml").as_posix(): _yaml(
            _command("prometheus", prometheus.flags(COMPOSE)),
            COMPOSE,
            "Prometheus' command line; docker-compose.yml's prometheus service extends this one.",
        ),
        (compose / "alertmanager" / "alertmanager.yml").as_posix(): _yaml(
            alertmanager.config(COMPOSE),
            COMPOSE,
            "Alertmanager of the Compose stack: every alert goes to the `receiver` service\n"
            "(`docker compose logs -f receiver`), the always-firing Watchdog every minute to its\n"
            "/watchdog path. To notify your own system, and send the Watchdog to a dead-man's\n"
            "switch, mount your own alertmanager.yml in a docker-compose.override.yml.",
        ),
        (compose / "alertmanager" / "command.yml").as_posix(): _yaml(
            _command("alertmanager", alertmanager.flags(COMPOSE)),
            COMPOSE,
            "Alertmanager's command line; docker-compose.yml's alertmanager service extends it.",
        ),
        (helm / "prometheus" / "prometheus.yml").as_posix(): _yaml(
            prometheus.config(HELM),
            HELM,
            "templates/prometheus/configmap.yaml adds what depends on the values: the intervals,\n"
            "the service's discovery, Alertmanager, remote write.",
        ),
        (helm / "prometheus" / "args.yaml").as_posix(): _yaml(
            prometheus.flags(HELM),
            HELM,
            "templates/prometheus/deployment.yaml adds the retention flags from the values.",
        ),
        (helm / "alertmanager" / "alertmanager.yml").as_posix(): _yaml(
            alertmanager.config(HELM),
            HELM,
            "templates/alertmanager/configmap.yaml adds the webhooks of alertmanager.webhookUrl\n"
            "and alertmanager.watchdogUrl (the Watchdog's dead-man's switch).",
        ),
        (helm / "alertmanager" / "args.yaml").as_posix(): _yaml(
            alertmanager.flags(HELM), HELM, "templates/alertmanager/deployment.yaml uses these."
        ),
    }
